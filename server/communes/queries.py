"""SQL of the commune requests and calendars, as named constants."""

from server.events.queries import _EVENT_COLUMNS, _EVENT_FROM

# every commune's name, for the slug map
COMMUNE_NAMES = "SELECT name FROM communes ORDER BY name"

# an organisation's id by its slug
ORGANISATION_ID = "SELECT id FROM organisations WHERE slug = $1"

# stores a new request; returns its id
INSERT_REQUEST = """
INSERT INTO commune_requests (organisation_id, commune, requester_type, contact_name, email, phone, language, subject,
                              preferred, audience_size, audience_languages, interpretation, venue, step_free, message,
                              token_nonce, token_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
RETURNING id
"""

_COLUMNS = """
r.*, o.slug AS organisation, o.name AS organisation_name,
(SELECT d.slug FROM organisation_domains d WHERE d.id = r.domain_id) AS domain
FROM commune_requests r JOIN organisations o ON o.id = r.organisation_id
"""

# one request with its organisation's slug, by id
REQUEST_BY_ID = f"SELECT {_COLUMNS} WHERE r.id = $1"

# the same, locked for a change
REQUEST_FOR_UPDATE = f"SELECT {_COLUMNS} WHERE r.id = $1 FOR UPDATE OF r"

# one request by the hash of its status token
REQUEST_BY_TOKEN = f"SELECT {_COLUMNS} WHERE r.token_hash = $1"

# requests addressed to the organisations $1 (every one when $2), optionally of status $3, newest first
REQUESTS_FOR_STAFF = f"""
SELECT {_COLUMNS}
WHERE ($2 OR r.organisation_id = ANY($1::bigint[])) AND ($3::text IS NULL OR r.status = $3)
ORDER BY r.id DESC
LIMIT 500
"""

# the thread of a request, oldest first
MESSAGES = "SELECT author, body, created_at FROM commune_request_messages WHERE request_id = $1 ORDER BY id"

# adds a message to a request's thread; returns its id
INSERT_MESSAGE = """
INSERT INTO commune_request_messages (request_id, author, organiser_id, body) VALUES ($1, $2, $3, $4) RETURNING id
"""

# the internal notes of a request with their authors' names, oldest first
NOTES = """
SELECT o.name AS author, n.body, n.created_at
FROM commune_request_notes n LEFT JOIN organisers o ON o.id = n.organiser_id
WHERE n.request_id = $1 ORDER BY n.id
"""

# adds an internal note to a request
INSERT_NOTE = "INSERT INTO commune_request_notes (request_id, organiser_id, body) VALUES ($1, $2, $3)"

# marks a request as touched by staff (the reminders count from here)
TOUCH_REQUEST = "UPDATE commune_requests SET updated_at = now() WHERE id = $1"

# the staff who may handle the requests of organisation $1 (by slug), by name
ASSIGNABLE = """
SELECT o.id, o.name, o.email FROM memberships m
JOIN organisers o ON o.id = m.organiser_id JOIN organisations g ON g.id = m.organisation_id
WHERE g.slug = $1 AND m.role IN ('admin', 'organiser') ORDER BY o.name, o.id
"""

# names of the staff members $1
STAFF_NAMES = "SELECT id, name, email FROM organisers WHERE id = ANY($1::bigint[])"

# the events a request led to, by start
LINKED_EVENTS = """
SELECT e.id, e.slug, e.status, e.starts_at, e.ends_at, e.timezone
FROM commune_request_events l JOIN events e ON e.id = l.event_id
WHERE l.request_id = $1 ORDER BY e.starts_at, e.id
"""

# records a change of status, reason, assignee or note
UPDATE_REQUEST = """
UPDATE commune_requests SET status = $2, reason = $3, assignee_id = $4, note = $5, updated_at = now() WHERE id = $1
"""

# whether staff member $1 has a role in organisation $2 that may handle requests
MAY_HANDLE = """
SELECT EXISTS (SELECT 1 FROM memberships
               WHERE organiser_id = $1 AND organisation_id = $2 AND role IN ('admin', 'organiser'))
"""

# addresses and languages of the staff who receive an organisation's requests (admins and organisers)
STAFF_OF = """
SELECT o.id, o.email, o.name, coalesce(o.language, 'fr') AS language
FROM memberships m JOIN organisers o ON o.id = m.organiser_id
WHERE m.organisation_id = $1 AND m.role IN ('admin', 'organiser') ORDER BY o.id
"""

# one staff member's address and language
ORGANISER_BY_ID = "SELECT id, email, name, coalesce(language, 'fr') AS language FROM organisers WHERE id = $1"

# open requests untouched by staff (no change, no staff message) since $1, with when they were last touched
UNTOUCHED = """
SELECT r.id, r.organisation_id, r.assignee_id, t.touched
FROM commune_requests r
CROSS JOIN LATERAL (
    SELECT greatest(r.updated_at, (SELECT max(m.created_at) FROM commune_request_messages m
                                   WHERE m.request_id = r.id AND m.author = 'staff')) AS touched
) t
WHERE r.status IN ('new', 'in_discussion') AND t.touched < $1
ORDER BY r.id
"""

# addresses and languages of an organisation's admins
ADMINS_OF = """
SELECT o.id, o.email, o.name, coalesce(o.language, 'fr') AS language
FROM memberships m JOIN organisers o ON o.id = m.organiser_id
WHERE m.organisation_id = $1 AND m.role = 'admin' ORDER BY o.id
"""

# links a request and an event
LINK_EVENT = "INSERT INTO commune_request_events (request_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING"

# the requests linked to event $1 or to an event of series $2 (just published), with their requesters
REQUESTS_OF_EVENTS = """
SELECT r.id, r.email, r.language, l.event_id
FROM events e JOIN commune_request_events l ON l.event_id = e.id JOIN commune_requests r ON r.id = l.request_id
WHERE e.id = $1 OR ($2::bigint IS NOT NULL AND e.series_id = $2)
ORDER BY r.id, l.event_id
"""

# moves a request to scheduled (from new or in discussion)
MARK_SCHEDULED = """
UPDATE commune_requests SET status = 'scheduled', updated_at = now()
WHERE id = $1 AND status IN ('new', 'in_discussion')
"""

# the coming published events held in commune $1 or aimed at it, by start (at most $2)
COMING_EVENTS = f"""
SELECT {_EVENT_COLUMNS} {_EVENT_FROM}
WHERE e.id IN (SELECT id FROM events WHERE commune = $1 AND status = 'published' AND ends_at > now()
               UNION
               SELECT c.event_id FROM event_communes c JOIN events x ON x.id = c.event_id
               WHERE c.commune = $1 AND x.status = 'published' AND x.ends_at > now())
ORDER BY e.starts_at, e.id
LIMIT $2
"""

# ---------------------------------------------------------------------------- outcomes and good practices

# the held (published) events a request led to: how many, people present at them, the last one's start
HELD_ATTENDANCE = """
SELECT count(DISTINCT e.id) AS events,
       count(r.id) FILTER (WHERE r.status = 'confirmed' AND r.attendance = 'present') AS present,
       max(e.starts_at) AS last_start
FROM commune_request_events l JOIN events e ON e.id = l.event_id AND e.status = 'published'
LEFT JOIN registrations r ON r.event_id = e.id
WHERE l.request_id = $1
"""

# a request's outcome, or no row
OUTCOME = "SELECT * FROM commune_request_outcomes WHERE request_id = $1"

# records or replaces a request's outcome
UPSERT_OUTCOME = """
INSERT INTO commune_request_outcomes (request_id, attendance, attendance_counted, discussed, follow_up, follow_up_text,
                                      held_on, recorded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (request_id) DO UPDATE SET
    attendance = EXCLUDED.attendance, attendance_counted = EXCLUDED.attendance_counted,
    discussed = EXCLUDED.discussed, follow_up = EXCLUDED.follow_up, follow_up_text = EXCLUDED.follow_up_text,
    held_on = EXCLUDED.held_on, recorded_by = EXCLUDED.recorded_by, updated_at = now()
RETURNING (xmax <> 0) AS replaced
"""

# forgets a request's practices before they are written again with its outcome
DELETE_PRACTICES = "DELETE FROM good_practices WHERE request_id = $1"

# notes one good practice of request $1
INSERT_PRACTICE = """
INSERT INTO good_practices (request_id, organisation_id, commune, held_on, position, title, description, tags)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
"""

# a request's good practices, in the order noted
PRACTICES_OF_REQUEST = """
SELECT id, title, description, tags, commune, held_on FROM good_practices WHERE request_id = $1 ORDER BY position
"""

# ---------------------------------------------------------------------------- a commune in the back-office
# ($1 the commune's name, $2 the reader's organisations, $3 whether they read every organisation)

# the commune's requests addressed to the reader's organisations, newest first, with their outcome's figure
COMMUNE_REQUESTS = """
SELECT r.id, r.subject, r.status, r.created_at, o.name AS organisation_name, oc.attendance, oc.held_on
FROM commune_requests r JOIN organisations o ON o.id = r.organisation_id
LEFT JOIN commune_request_outcomes oc ON oc.request_id = r.id
WHERE r.commune = $1 AND ($3 OR r.organisation_id = ANY($2::bigint[]))
ORDER BY r.id DESC
LIMIT 500
"""

_COMMUNE_EVENTS = """
e.status <> 'draft' AND ($3 OR e.organisation_id = ANY($2::bigint[]))
AND e.id IN (SELECT id FROM events WHERE commune = $1 UNION SELECT event_id FROM event_communes WHERE commune = $1)
"""
_PRESENT = """
(SELECT count(*) FROM registrations g WHERE g.event_id = e.id AND g.status = 'confirmed' AND g.attendance = 'present')
"""

# the sessions of the reader's organisations held in the commune or aimed at it, latest first, with people present
COMMUNE_SESSIONS = f"""
SELECT e.slug, e.kind, e.status, e.title, e.languages, e.starts_at, e.ends_at, e.timezone, {_PRESENT} AS present
FROM events e WHERE {_COMMUNE_EVENTS}
ORDER BY e.starts_at DESC, e.id DESC
LIMIT 200
"""

# per year in Luxembourg, latest first: sessions held, people present, attendance stated without a session,
# requests received, practices noted
COMMUNE_YEARS = f"""
SELECT year, sum(sessions)::int AS sessions, sum(present)::int AS present, sum(stated)::int AS stated,
       sum(requests)::int AS requests, sum(practices)::int AS practices
FROM (
    SELECT extract(year FROM e.starts_at AT TIME ZONE 'Europe/Luxembourg')::int AS year,
           1 AS sessions, {_PRESENT} AS present, 0 AS stated, 0 AS requests, 0 AS practices
    FROM events e WHERE {_COMMUNE_EVENTS} AND e.status = 'published' AND e.starts_at < now()
    UNION ALL
    SELECT extract(year FROM r.created_at AT TIME ZONE 'Europe/Luxembourg')::int, 0, 0,
           0, 1, 0
    FROM commune_requests r WHERE r.commune = $1 AND ($3 OR r.organisation_id = ANY($2::bigint[]))
    UNION ALL
    SELECT extract(year FROM oc.held_on)::int, 0, 0, oc.attendance, 0, 0
    FROM commune_request_outcomes oc JOIN commune_requests r ON r.id = oc.request_id
    WHERE NOT oc.attendance_counted AND r.commune = $1 AND ($3 OR r.organisation_id = ANY($2::bigint[]))
    UNION ALL
    SELECT extract(year FROM p.held_on)::int, 0, 0, 0, 0, 1
    FROM good_practices p WHERE p.commune = $1 AND ($3 OR p.organisation_id = ANY($2::bigint[]))
) x
GROUP BY year ORDER BY year DESC
"""

# ---------------------------------------------------------------------------- the practices export
# ($1 whether the reader reads every organisation, $2 their organisations, $3 a year or null, $4 a commune's
# name or null, $5 a tag or null)

_PRACTICES_WHERE = """
($1 OR p.organisation_id = ANY($2::bigint[]))
AND ($3::int IS NULL OR (p.held_on >= make_date($3, 1, 1) AND p.held_on < make_date($3 + 1, 1, 1)))
AND ($4::text IS NULL OR p.commune = $4)
AND ($5::text IS NULL OR p.tags @> ARRAY[$5::text])
"""

# the good practices that pass the filters, latest session first (the export's rows)
PRACTICES = f"""
SELECT p.id, p.title, p.description, p.tags, p.commune, p.held_on, p.request_id, r.subject,
       o.name AS organisation_name
FROM good_practices p JOIN commune_requests r ON r.id = p.request_id JOIN organisations o ON o.id = p.organisation_id
WHERE {_PRACTICES_WHERE}
ORDER BY p.held_on DESC, p.commune, p.request_id, p.position
LIMIT 5000
"""

# every tag and year of the practices the reader sees, for the filters
PRACTICE_TAGS = """
SELECT DISTINCT unnest(p.tags) AS tag FROM good_practices p
WHERE ($1 OR p.organisation_id = ANY($2::bigint[])) ORDER BY tag LIMIT 500
"""
PRACTICE_YEARS = """
SELECT DISTINCT extract(year FROM p.held_on)::int AS year FROM good_practices p
WHERE ($1 OR p.organisation_id = ANY($2::bigint[])) ORDER BY year DESC
"""
