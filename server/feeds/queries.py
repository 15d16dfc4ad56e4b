"""SQL for the iCal feeds: each feed's rows, and a cheap version of them that tells when it changed."""

from server.events.queries import SEARCHED_IDS

# what building a calendar item needs of an event row, with its series' rule
_ITEM_COLUMNS = """
    e.id, e.slug, e.kind, e.status, e.title, e.summary, e.description, e.languages, e.starts_at,
    e.ends_at, e.timezone, e.join_url, e.platform, e.venue, e.online, e.commune, e.series_id,
    e.recurrence_id, e.revision, e.created_at, e.updated_at, s.rrule
"""

# A feed's version: a digest of its rows' ids and last changes (updated_at moves on every change of
# content, migration 0005, but not on seat counts), of its series' rules and of its organisations'
# names. Equal versions give equal bytes; reading it costs a fraction of building the feed.
_VERSION_OF_FEED_ROWS = """
SELECT count(*) AS size, md5(
    coalesce(string_agg(f.id || ':' || floor(extract(epoch FROM f.updated_at) * 1000000)::bigint, ','
                        ORDER BY f.id), '')
    || '|' || coalesce((SELECT string_agg(s.id || ':' || s.rrule, ',' ORDER BY s.id) FROM series s
                        WHERE s.id IN (SELECT series_id FROM feed_rows)), '')
    || '|' || coalesce((SELECT string_agg(o.id || ':' || o.name, ',' ORDER BY o.id) FROM organisations o
                        WHERE o.id IN (SELECT organisation_id FROM feed_rows)), '')
) AS version
FROM feed_rows f
"""

# The rows of a public feed: published or cancelled events in the window [$1, $2) matching the
# filters (NULL filters nothing: kind, spoken language, commune, organisation slug, searched words),
# and for a series every public row of it, in the window or not (its rule covers them all).
_PUBLIC_FEED_ROWS = """
WITH hits AS (
    SELECT e.id, e.series_id
    FROM events e JOIN organisations o ON o.id = e.organisation_id
    WHERE e.status <> 'draft'
      AND e.ends_at > $1 AND e.starts_at < $2
      AND ($3::text IS NULL OR e.kind = $3)
      AND ($4::text IS NULL OR $4 = ANY(e.languages))
      AND ($5::text IS NULL OR e.commune = $5 OR e.id IN (SELECT event_id FROM event_communes WHERE commune = $5))
      AND ($6::text IS NULL OR o.slug = $6)
      AND ($7::text IS NULL OR SEARCHED)
), feed_rows AS (
    SELECT * FROM events WHERE id IN (SELECT id FROM hits WHERE series_id IS NULL)
    UNION ALL
    SELECT * FROM events WHERE series_id IN (SELECT series_id FROM hits WHERE series_id IS NOT NULL)
        AND status <> 'draft'
)
""".replace(
    "SEARCHED",
    SEARCHED_IDS.format(  # the list's search, the same events
        n="$7", window="\n                                 AND s.ends_at > $1 AND s.starts_at < $2"
    ),
)

# the version of a public feed
PUBLIC_FEED_VERSION = _PUBLIC_FEED_ROWS + _VERSION_OF_FEED_ROWS

# the rows of a public feed, in a stable order
PUBLIC_FEED_ITEMS = (
    _PUBLIC_FEED_ROWS
    + f"""
SELECT {_ITEM_COLUMNS} FROM feed_rows e LEFT JOIN series s ON s.id = e.series_id
ORDER BY e.starts_at, e.id
"""
)

# One event's feed, $1 a slug: a single event or one occurrence, or with a series' slug every row
# of that series; drafts never. No window: an event's own feed works for as long as its page.
_EVENT_FEED_ROWS = """
WITH feed_rows AS (
    SELECT * FROM events WHERE slug = $1 AND status <> 'draft'
    UNION ALL
    SELECT * FROM events WHERE series_id = (SELECT id FROM series WHERE slug = $1) AND status <> 'draft'
)
"""

# the version of one event's feed
EVENT_FEED_VERSION = _EVENT_FEED_ROWS + _VERSION_OF_FEED_ROWS

# the rows of one event's feed
EVENT_FEED_ITEMS = (
    _EVENT_FEED_ROWS
    + f"""
SELECT {_ITEM_COLUMNS} FROM feed_rows e LEFT JOIN series s ON s.id = e.series_id
ORDER BY e.starts_at, e.id
"""
)

# A person's feed: the events in the window [$2, $3) of every confirmed registration with the email
# $1 (the token's). The registrations' changes count too: a confirmation adds a date, a
# cancellation takes one away.
_PERSONAL_FEED_ROWS = """
WITH mine AS (
    SELECT r.id AS registration_id, r.token_nonce AS registration_nonce, r.updated_at AS registration_updated_at, e.*
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.email = $1 AND r.status = 'confirmed' AND e.status <> 'draft'
      AND e.ends_at > $2 AND e.starts_at < $3
)
"""

# the version of a person's feed
PERSONAL_FEED_VERSION = (
    _PERSONAL_FEED_ROWS
    + """
SELECT count(*) AS size, md5(coalesce(string_agg(
    m.registration_id || ':' || floor(extract(epoch FROM m.registration_updated_at) * 1000000)::bigint
    || ':' || m.id || ':' || floor(extract(epoch FROM m.updated_at) * 1000000)::bigint,
    ',' ORDER BY m.registration_id), '')) AS version
FROM mine m
"""
)

# the events of a person's feed, in a stable order
PERSONAL_FEED_ITEMS = (
    _PERSONAL_FEED_ROWS
    + f"""
SELECT {_ITEM_COLUMNS}, e.registration_id, e.registration_nonce FROM mine e LEFT JOIN series s ON s.id = e.series_id
ORDER BY e.starts_at, e.id
"""
)

# the name of an organisation by slug (its feed is named after it)
ORGANISATION_NAME = "SELECT name FROM organisations WHERE slug = $1"

# the version of a feed last recorded, since when, and its body if shared
RECORDED_VERSION = "SELECT version, last_modified, body FROM feed_versions WHERE feed_key = $1"

# records a new version of a feed. Its Last-Modified is now in whole seconds, but always at least a
# second after the previous version's, so that If-Modified-Since tells two versions apart. Returns
# nothing when another process recorded this version first (then RECORDED_VERSION has it).
RECORD_VERSION = """
INSERT INTO feed_versions AS f (feed_key, version, last_modified, body)
VALUES ($1, $2, date_trunc('second', clock_timestamp()), $3)
ON CONFLICT (feed_key) DO UPDATE SET
    version = EXCLUDED.version,
    last_modified = greatest(EXCLUDED.last_modified, f.last_modified + interval '1 second'),
    body = EXCLUDED.body,
    recorded_at = now()
WHERE f.version <> EXCLUDED.version
RETURNING last_modified
"""

# drops versions not renewed for long (their next poll records them again)
FORGET_OLD_VERSIONS = "DELETE FROM feed_versions WHERE recorded_at < now() - $1::interval"
