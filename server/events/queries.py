"""SQL for events and series."""

import functools

# the columns every event read returns, with its organisation, series slug and seat counters (kept
# by triggers on registrations in event_seats, migration 0024): every column of events but the
# search's words (about 7 KB an event, stored apart, read by the search alone; a new column of
# events goes here too, tests/test_big_data.py checks it)
_EVENT_COLUMNS = """
    e.id, e.slug, e.organisation_id, e.kind, e.status, e.title, e.summary, e.description, e.languages,
    e.starts_at, e.ends_at, e.timezone, e.capacity, e.registration_opens_at, e.registration_closes_at,
    e.confirmation_required, e.reminders, e.join_url, e.platform, e.venue, e.online, e.commune,
    e.practised_language, e.level, e.topics, e.audience, e.requesting_partner, e.series_id, e.recurrence_id,
    e.revision, e.created_at, e.updated_at, e.published_at, e.cancelled_at, e.row_version,
    e.registrations_anonymised_at, e.domain_id,
    st.seats_taken, st.waitlist_length, o.slug AS organisation_slug, o.name AS organisation_name,
    s.slug AS series_slug, (SELECT d.slug FROM organisation_domains d WHERE d.id = e.domain_id) AS domain
"""
_EVENT_FROM = """
FROM events e
JOIN event_seats st ON st.event_id = e.id
JOIN organisations o ON o.id = e.organisation_id
LEFT JOIN series s ON s.id = e.series_id
"""

# one non-draft event by slug
PUBLIC_EVENT_BY_SLUG = f"SELECT {_EVENT_COLUMNS} {_EVENT_FROM} WHERE e.slug = $1 AND e.status <> 'draft'"

# full rows of the given non-draft events
PUBLIC_EVENTS_BY_ID = f"SELECT {_EVENT_COLUMNS} {_EVENT_FROM} WHERE e.id = ANY($1::bigint[]) AND e.status <> 'draft'"

# one event by slug, drafts included
EVENT_BY_SLUG = f"SELECT {_EVENT_COLUMNS} {_EVENT_FROM} WHERE e.slug = $1"

# one event by id, drafts included (the notifier renders mail from the current row)
EVENT_BY_ID = f"SELECT {_EVENT_COLUMNS} {_EVENT_FROM} WHERE e.id = $1"

# the same, locking the event row for a change (capacity and time decisions serialize on it)
EVENT_BY_SLUG_FOR_UPDATE = f"SELECT {_EVENT_COLUMNS} {_EVENT_FROM} WHERE e.slug = $1 FOR UPDATE OF e"

# A page of the public list in (starts_at, id) order: $1 from (NULL: now), $2 and $3 the cursor's
# (starts_at, id) or NULL, $4 the page size plus one; `{filters}` holds the conditions of
# PUBLIC_FILTERS asked for, on $5 and on: one statement per combination, so each gets its own plan.
# The page is the events running at $1 (from the GiST index of time ranges, migration 0011, read
# once and filtered there) followed by those starting after it (the covering index of 0009). Each
# part stops at a constant, the largest page, which keeps the generic plan cheap; the page's ids
# are chosen first, so that only the page's rows are read.
# Only what changes per request or tells a cached rendering's version: see listing.list_public.
PUBLIC_PAGE_MOST = 100  # the largest page of the list (events/controllers.py Limit)
_PUBLIC_EVENT_PAGE = """
WITH running AS MATERIALIZED (
    SELECT id, starts_at, kind, languages, commune, organisation_id, search FROM events
    WHERE status <> 'draft' AND tstzrange(starts_at, ends_at) @> coalesce($1::timestamptz, now())
)
SELECT e.id, e.starts_at, e.row_version, o.name AS organisation_name, e.status, e.capacity,
       e.registration_opens_at, e.registration_closes_at, st.seats_taken
FROM (
    (SELECT e.id, e.starts_at FROM running e
     WHERE (e.starts_at, e.id) > (coalesce($2::timestamptz, '-infinity'), coalesce($3::bigint, 0)){filters}
     ORDER BY e.starts_at, e.id
     LIMIT {most})
    UNION ALL
    {coming}
    ORDER BY starts_at, id
    LIMIT $4
) page
JOIN events e ON e.id = page.id
JOIN event_seats st ON st.event_id = e.id
JOIN organisations o ON o.id = e.organisation_id
ORDER BY e.starts_at, e.id
"""

# the events starting after $1, from the cursor on, in order, passing {filters}
_COMING = """(SELECT e.id, e.starts_at FROM events e
     WHERE e.status <> 'draft'
       -- after the cursor, and after $1 (an event starting at $1 is running): one row comparison,
       -- so that the index scan starts there; with "starts_at > $1" beside it, it started at $1
       AND (e.starts_at, e.id) > (greatest($2::timestamptz, coalesce($1::timestamptz, now())),
                                  CASE WHEN $2::timestamptz > coalesce($1::timestamptz, now()) THEN $3::bigint
                                       ELSE 9223372036854775807 END){filters}
     ORDER BY e.starts_at, e.id
     LIMIT {most})"""

# the public list's filters, by the name of their EventFilters field, as conditions on parameter ${n}
PUBLIC_FILTERS = {
    "to": "e.starts_at < ${n}::timestamptz",
    "kind": "e.kind = ${n}::text",
    "spoken": "${n}::text = ANY(e.languages)",
    "commune": "e.commune = ${n}::text",
    "organisation": "e.organisation_id = (SELECT id FROM organisations WHERE slug = ${n}::text)",
    # every word typed begins a word of the title or summary, in any language (migrations 0010,
    # 0038), under the kind and spoken language asked ({kind}, {spoken}: their parameters or NULL)
    "q": "e.search @@ event_search_query(${n}::text, {kind}::text, {spoken}::text)",
}


@functools.cache
def public_event_page(filters: tuple[str, ...]) -> str:
    """The public list's page query for these PUBLIC_FILTERS (by name, in that order), on $5 and on."""
    n = {name: n for n, name in enumerate(filters, start=5)}
    asked = {"kind": "NULL", "spoken": "NULL"}
    if "q" in n:
        # the words are kept under their event's kind and languages (migration 0038): a search asks
        # for them there, and not beside conditions whose shares the planner would multiply as if
        # they were independent (no web conference says "table")
        asked = {name: f"${n.pop(name)}" if name in n else "NULL" for name in asked}
    conditions = [PUBLIC_FILTERS[name].format(n=number, **asked) for name, number in n.items()]
    every = "".join(f"\n       AND {c}" for c in conditions)
    coming = _COMING.format(filters=every, most=PUBLIC_PAGE_MOST + 1)
    return _PUBLIC_EVENT_PAGE.format(filters=every, coming=coming, most=PUBLIC_PAGE_MOST + 1)


# the events whose words begin with every word typed in parameter {n}, as one array ({window}: and
# more conditions on them); the feeds' search (feeds/queries.py), the same events as the list's
SEARCHED_IDS = """e.id = ANY (ARRAY(SELECT s.id FROM events s WHERE s.status <> 'draft'{window}
                                 AND s.search @@ event_search_query({n}::text, NULL, NULL)))"""


# a page of the events an organiser can read (all of them for $1 = true), drafts included
ORGANISER_EVENT_PAGE = f"""
SELECT {_EVENT_COLUMNS} {_EVENT_FROM}
WHERE ($1::boolean OR e.organisation_id = ANY($2::bigint[]))
  AND ($3::text IS NULL OR e.status = $3)
  AND ($4::text IS NULL OR o.slug = $4)
  AND ($5::timestamptz IS NULL OR (e.starts_at, e.id) > ($5, $6::bigint))
ORDER BY e.starts_at, e.id
LIMIT $7
"""

# the slugs of a series' occurrences in order
SERIES_OCCURRENCES = "SELECT slug FROM events WHERE series_id = $1 ORDER BY recurrence_id"

# whether a slug is taken by an event or a series
SLUG_TAKEN = "SELECT EXISTS (SELECT 1 FROM events WHERE slug = $1) OR EXISTS (SELECT 1 FROM series WHERE slug = $1)"

# whether a commune exists
COMMUNE_EXISTS = "SELECT EXISTS (SELECT 1 FROM communes WHERE name = $1)"

# creates a series; returns its id
INSERT_SERIES = "INSERT INTO series (slug, rrule, exdates) VALUES ($1, $2, $3) RETURNING id"

# creates an event (a draft); returns its id
INSERT_EVENT = """
INSERT INTO events (
    slug, organisation_id, kind, title, summary, description, languages, starts_at, ends_at, timezone,
    capacity, registration_opens_at, registration_closes_at, confirmation_required, reminders,
    join_url, platform, venue, online, commune, practised_language, level, topics, audience,
    requesting_partner, series_id, recurrence_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
        $21, $22, $23, $24, $25, $26, $27)
RETURNING id
"""

# the columns PATCH may set; the service builds its UPDATE only from this allow-list
PATCHABLE_COLUMNS = (
    "title",
    "summary",
    "description",
    "languages",
    "starts_at",
    "ends_at",
    "timezone",
    "capacity",
    "registration_opens_at",
    "registration_closes_at",
    "confirmation_required",
    "reminders",
    "join_url",
    "platform",
    "venue",
    "online",
    "commune",
    "practised_language",
    "level",
    "topics",
    "audience",
    "requesting_partner",
)

# a change of any of these on a published event is a change of time or place
TIME_OR_PLACE_COLUMNS = ("starts_at", "ends_at", "timezone", "venue", "online", "commune", "join_url")

# publishes a draft (and, for a series, every draft occurrence)
PUBLISH_EVENT = """
UPDATE events SET status = 'published', published_at = now(), updated_at = now()
WHERE status = 'draft' AND (id = $1 OR ($2::bigint IS NOT NULL AND series_id = $2))
"""

# cancels one event; returns whether it changed
CANCEL_EVENT = """
UPDATE events SET status = 'cancelled', cancelled_at = now(), updated_at = now(), revision = revision + 1
WHERE id = $1 AND status <> 'cancelled'
RETURNING id
"""

# cancels every occurrence of a series that has not ended yet; returns their ids
CANCEL_SERIES_UPCOMING = """
UPDATE events SET status = 'cancelled', cancelled_at = now(), updated_at = now(), revision = revision + 1
WHERE series_id = $1 AND status <> 'cancelled' AND ends_at > now()
RETURNING id
"""

# the people to tell about a change to an event: every live registration
LIVE_REGISTRATIONS = """
SELECT id, email, language, status FROM registrations
WHERE event_id = $1 AND status IN ('pending', 'confirmed', 'waitlisted') AND email IS NOT NULL
"""

# confirmed seats of an event (capacity may not drop below it unless forced)
CONFIRMED_COUNT = "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'"

# the communes events $1 are aimed at, by event
AIMED_AT = """
SELECT event_id, array_agg(commune ORDER BY commune) AS communes FROM event_communes
WHERE event_id = ANY($1::bigint[]) GROUP BY event_id
"""

# forgets the communes event $1 is aimed at
CLEAR_AIMED_AT = "DELETE FROM event_communes WHERE event_id = $1"

# aims event $1 at the communes $2
AIM_AT = "INSERT INTO event_communes (event_id, commune) SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING"

# the names among $1 that are no commune of Luxembourg
UNKNOWN_COMMUNES = """
SELECT name FROM unnest($1::text[]) AS n(name) WHERE NOT EXISTS (SELECT 1 FROM communes c WHERE c.name = n.name)
"""
