"""SQL for events and series."""

import functools
from collections.abc import Iterable
from typing import get_args

from server.events.schemas import Kind

# the columns every event read returns, with its organisation and series slug; e.seats_taken
# (pending + confirmed) is kept by a trigger on registrations (migration 0003)
_EVENT_COLUMNS = """
    e.*, o.slug AS organisation_slug, o.name AS organisation_name, s.slug AS series_slug
"""
_EVENT_FROM = """
FROM events e
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
# PUBLIC_FILTERS asked for, on $5 and on. One statement per combination of filters gives each its
# own plan: with "$n IS NULL OR ..." for every filter, a prepared statement soon ran one generic
# plan for all of them, which read every upcoming event of a big database.
# The page is the events running at $1 (started, not ended) followed by those starting after it.
# Asked as one range, "ends after $1", the index scan passed over every event of the weeks before
# that had ended (1,400 on the big database) to find the few still running; now those come from a
# GiST index of the events' time ranges (migration 0011) and the rest from the covering index of
# 0009, from $1 on. The running events are read once, whole (MATERIALIZED), and filtered there:
# given the filters and cursor too, a generic plan ANDed the GiST bitmap with a scan of another
# index over every event (10 ms). Each part stops at the largest page there is, a constant: with
# LIMIT $4 there, the generic plan was priced for a tenth of each part, dearer than a custom plan,
# and PostgreSQL planned every request again (half of the statement's time on the big database).
# The page's ids are chosen first, so that the rows read are only those of the page.
# Only what changes per request or tells a cached rendering's version: see service.list_public.
PUBLIC_PAGE_MOST = 100  # the largest page of the list (events/controllers.py Limit)
_PUBLIC_EVENT_PAGE = """
WITH running AS MATERIALIZED (
    SELECT id, starts_at, kind, languages, commune, organisation_id, search_words FROM events
    WHERE status <> 'draft' AND tstzrange(starts_at, ends_at) @> coalesce($1::timestamptz, now())
)
SELECT e.id, e.starts_at, e.row_version, o.name AS organisation_name, e.status, e.capacity,
       e.registration_opens_at, e.registration_closes_at, e.seats_taken
FROM (
    (SELECT e.id, e.starts_at FROM running e
     WHERE (e.starts_at, e.id) > (coalesce($2::timestamptz, '-infinity'), coalesce($3::bigint, 0)){filters}
     ORDER BY e.starts_at, e.id
     LIMIT {most})
    UNION ALL
    ({coming})
    ORDER BY starts_at, id
    LIMIT $4
) page
JOIN events e ON e.id = page.id
JOIN organisations o ON o.id = e.organisation_id
ORDER BY e.starts_at, e.id
"""

# the events starting after $1, from the cursor on, in order: {columns} of them, with {filters}
_COMING = """SELECT e.id, e.starts_at{columns} FROM events e
     WHERE e.status <> 'draft'
       -- after the cursor, and after $1 (an event starting at $1 is running): one row comparison,
       -- so that the index scan starts there; with "starts_at > $1" beside it, it started at $1
       AND (e.starts_at, e.id) > (greatest($2::timestamptz, coalesce($1::timestamptz, now())),
                                  CASE WHEN $2::timestamptz > coalesce($1::timestamptz, now()) THEN $3::bigint
                                       ELSE 9223372036854775807 END){filters}
     ORDER BY e.starts_at, e.id
     LIMIT {limit}"""

# the events whose words begin with every word typed in parameter {n}, as one array ({window}: and
# more conditions on them, read as the index's matches are); the feeds' search (feeds/queries.py).
# The index is asked for the whole words (event_search_index_query, migration 0015).
SEARCHED_IDS = """e.id = ANY (ARRAY(SELECT s.id FROM events s WHERE s.status <> 'draft'{window}
                                 AND s.search_words @@ event_search_index_query({n}::text)))"""

# the public list's filters, by the name of their EventFilters field, as conditions on parameter ${n}
PUBLIC_FILTERS = {
    "to": "e.starts_at < ${n}::timestamptz",
    "kind": "e.kind = ${n}::text",
    "spoken": "${n}::text = ANY(e.languages)",
    "commune": "e.commune = ${n}::text",
    "organisation": "e.organisation_id = (SELECT id FROM organisations WHERE slug = ${n}::text)",
    # words that begin words of the title or summary, in any language (migrations 0010, 0013),
    # checked on each event read: the running ones, or the coming ones read in order for a common
    # word (events/search.py). The query is computed once (SELECT ...): a generic plan called the
    # function again on every event it checked, half of the statement's time.
    "q": "e.search_words @@ (SELECT event_search_query(${n}::text))",
}

# The coming events holding the words of parameter {n} and matching {filters}, found through the
# indexes once (an InitPlan) rather than read in order: right for a rare word, or when reading in
# order found too few. The words' index holds the kind, languages, commune and organisation too
# (migration 0015), so that it intersects them with the words before reading a row: a common word
# that the filters exclude (q=table with kind=webconference) reads nothing, where the word's index
# alone gave most events, and the kind's every coming web conference. The words are asked as the
# whole words that begin with them, and the function called as is, so that a custom plan sees them
# and estimates the word.
# The spoken language is asked there as an array contained, which the index answers; elsewhere as
# "= ANY", which no index answers: read in order, "@>" made PostgreSQL gather every coming event in
# that language from the index and sort them (5,000, on disk: 30 ms against 8 read in order).
# The kind is written into the statement as well (one of KINDS, never the request's own text), so
# that a generic plan too can take that kind's index of the words (migration 0016): given only as a
# parameter, it could not tell which.
_MATCHING_FILTERS = {**PUBLIC_FILTERS, "spoken": "e.languages @> ARRAY[${n}::text]"}
KINDS = get_args(Kind)
_MATCHING_COMING = """e.id = ANY (ARRAY(SELECT e.id FROM events e WHERE e.status <> 'draft'
                          AND e.ends_at > greatest($2::timestamptz, coalesce($1::timestamptz, now())){filters}
                          AND e.search_words @@ {words}))"""


# whether any event of kind $2 (one of KINDS) ever held words beginning with every word typed in $1
# (migration 0017)
KIND_HOLDS_WORDS = "SELECT event_search_index_query($1::text, $2::text) IS NOT NULL"

# How many of the events holding the words of $3 and passing {filters} (on $4 and on) end after $1
# (NULL: now) and after the cursor's time $2, counted up to {most}: a superset of those of the
# page, from the same indexes as _MATCHING_COMING, whose filters these are. The words' query is a
# sub-select, so that the planner does not run it to estimate the words (0.4 ms of a count's 0.8)
# and keeps one plan for all of them. Asked before reading in order when the filters may exclude
# the words (events/search.py), or after it found too few, it costs the index's bitmap and at most
# {most} events read: 0.8 ms for q=vivre&spoken=pt on the big database, none found, where reading
# 362 Portuguese events in order and then asking the index took 4.8.
SEARCH_MATCHES_COUNTED = 65
_SEARCH_MATCHES = """SELECT count(*) FROM (
    SELECT FROM events e WHERE e.status <> 'draft'
      AND e.ends_at > greatest($2::timestamptz, coalesce($1::timestamptz, now())){filters}
      AND e.search_words @@ (SELECT {words})
    LIMIT {most}) matched"""


@functools.cache
def search_matches(filters: tuple[str, ...], kind: str | None = None) -> str:
    """_SEARCH_MATCHES for these PUBLIC_FILTERS other than "q" (by name, in that order), on $4 and on."""
    return _SEARCH_MATCHES.format(filters=_each_and(_matching(filters, 4, kind)), words=_index_query(3, kind),
                                  most=SEARCH_MATCHES_COUNTED)


def _index_query(n: int, kind: str | None) -> str:
    """The words of parameter ${n} as the index is asked for them: among the words of `kind` (migration 0017) if one of KINDS."""
    return f"event_search_index_query(${n}::text, '{kind}')" if kind in KINDS else f"event_search_index_query(${n}::text)"


def _matching(filters: tuple[str, ...], start: int, kind: str | None) -> list[str]:
    """The conditions of _MATCHING_FILTERS other than "q" on ${start} and on, with the kind written in."""
    conditions = [_MATCHING_FILTERS[name].format(n=n) for n, name in enumerate(filters, start=start) if name != "q"]
    return conditions + ([f"e.kind = '{kind}'"] if "kind" in filters and kind in KINDS else [])


def _each_and(conditions: Iterable[str], indent: int = 6) -> str:
    """The conditions, each on a line of its own after AND, `indent` spaces in (to sit under its WHERE)."""
    return "".join(f"\n{' ' * indent}AND {c}" for c in conditions)


@functools.cache
def public_event_page(filters: tuple[str, ...], read_in_order: int | None = None, kind: str | None = None) -> str:
    """The public list's page query for these PUBLIC_FILTERS (by name, in that order), on $5 and on.

    With a "q" among them, the coming events holding its words are found through the indexes, or
    with `read_in_order` read in order, that many at most, and their words checked after
    (events/search.py tells which, and how many). `kind` is the kind asked, if any.
    """
    condition = {name: PUBLIC_FILTERS[name].format(n=n) for n, name in enumerate(filters, start=5)}
    every = _each_and(condition.values())
    others = [c for name, c in condition.items() if name != "q"]
    if "q" not in filters:
        coming = _COMING.format(columns="", filters=every, limit=PUBLIC_PAGE_MOST + 1)
    elif read_in_order is not None:
        # the coming events passing the filters, from the list's index, which holds what they check;
        # then the words of those alone. With the words read in the same scan, PostgreSQL read every
        # event the filters refused too (q=vivre&spoken=pt: 8,200 events read, 54 ms; now 8 ms).
        read = _COMING.format(columns="", filters=_each_and(others), limit=int(read_in_order))
        # Ordered by the read's columns, which PostgreSQL knows come in order: by the joined row's,
        # it sorted every event read and so read them all, not only until the page was full.
        coming = (f"SELECT c.id, c.starts_at FROM ({read}) c\n     JOIN events e ON e.id = c.id\n     WHERE {condition['q']}"
                  f"\n     ORDER BY c.starts_at, c.id\n     LIMIT {PUBLIC_PAGE_MOST + 1}")
    else:
        matching = _MATCHING_COMING.format(filters=_each_and(_matching(filters, 5, kind), indent=26),
                                           words=_index_query(5 + filters.index("q"), kind))
        coming = _COMING.format(columns="", filters=f"\n       AND {matching}", limit=PUBLIC_PAGE_MOST + 1)
    return _PUBLIC_EVENT_PAGE.format(filters=every, coming=coming, most=PUBLIC_PAGE_MOST + 1)


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
    "title", "summary", "description", "languages", "starts_at", "ends_at", "timezone", "capacity",
    "registration_opens_at", "registration_closes_at", "confirmation_required", "reminders",
    "join_url", "platform", "venue", "online", "commune", "practised_language", "level", "topics",
    "audience", "requesting_partner",
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
