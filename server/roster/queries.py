"""SQL of the registrations table, the door page and the attendance sheet."""

# The table's filters: $1 the event, $2 an ILIKE pattern on name or email (NULL: anyone), $3 a status,
# $4 an attendance or 'unmarked' (NULL: any). An event's rows come by the (event_id, id) index; a few
# thousand names are scanned faster than a trigram index would be kept up on every registration.
_TABLE_WHERE = """
WHERE r.event_id = $1
  AND ($2::text IS NULL OR r.name ILIKE $2 OR r.email ILIKE $2)
  AND ($3::text IS NULL OR r.status = $3)
  AND ($4::text IS NULL OR r.attendance = $4 OR ($4::text = 'unmarked' AND r.attendance IS NULL))
"""

# a page of the table in registration order ($5 rows from $6 on), each with its first join through /j/
# and the latest mail written to the person (for "resend"); the page is cut before the joins, so that
# the rows skipped by the offset cost an index entry each, not two more lookups
TABLE_PAGE = (
    """
WITH page AS (
    SELECT r.id, r.name, r.email, r.language, r.status, r.attendance, r.source, r.created_at, r.waitlisted_at,
           r.anonymised_at IS NOT NULL AS anonymised
    FROM registrations r"""
    + _TABLE_WHERE
    + """
    ORDER BY r.id
    LIMIT $5 OFFSET $6
)
SELECT p.*, j.first_joined_at AS joined_at, m.id AS last_mail_id, m.kind AS last_mail_kind,
       m.status AS last_mail_status
FROM page p
LEFT JOIN registration_joins j ON j.registration_id = p.id
LEFT JOIN LATERAL (SELECT o.id, o.kind, o.status FROM outbox o WHERE o.registration_id = p.id
                   ORDER BY o.id DESC LIMIT 1) m ON true
ORDER BY p.id
"""
)

# how many rows the table's filters keep
TABLE_COUNT = "SELECT count(*) FROM registrations r" + _TABLE_WHERE

# an event's registrations by status and, among those with a seat, how many are marked present
EVENT_COUNTS = """
SELECT count(*) FILTER (WHERE status = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE status = 'pending') AS pending,
       count(*) FILTER (WHERE status = 'waitlisted') AS waitlisted,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status IN ('pending', 'confirmed')) AS expected,
       count(*) FILTER (WHERE status IN ('pending', 'confirmed') AND attendance = 'present') AS present
FROM registrations WHERE event_id = $1
"""

# one registration of event $2, for an action on it; NULL row for another event's
REGISTRATION_AT_EVENT = """
SELECT id, event_id, name, email, language, status, attendance, anonymised_at IS NOT NULL AS anonymised
FROM registrations WHERE id = $1 AND event_id = $2
"""

# gives waitlisted registration $1 of event $2 a place on the organiser's word, confirmed (as a person
# added by hand is), ahead of the list; no row if it no longer waits
PROMOTE_ONE = """
UPDATE registrations SET status = 'confirmed', confirmed_at = clock_timestamp(), hold_expires_at = NULL,
       updated_at = now()
WHERE id = $1 AND event_id = $2 AND status = 'waitlisted'
RETURNING id, email, language, status
"""

# raises event $1's capacity to $2 places (one more chair for a person an organiser lets in)
RAISE_CAPACITY = "UPDATE events SET capacity = $2 WHERE id = $1 AND capacity < $2 RETURNING capacity"

# the latest mail written to registration $1
LAST_MAIL = "SELECT id FROM outbox WHERE registration_id = $1 ORDER BY id DESC LIMIT 1"

# the people of event $1 an "attended" message goes to: marked present, still holding their seat
ATTENDED_WITH_EMAIL = """
SELECT id, email, language FROM registrations
WHERE event_id = $1 AND status IN ('pending', 'confirmed') AND attendance = 'present'
  AND email IS NOT NULL AND anonymised_at IS NULL
ORDER BY id
"""

# ---------------------------------------------------------------------------- the door

# the people of event $1 with a seat whose name or email matches $2 (NULL: all), by name, at most $3
DOOR_PEOPLE = """
SELECT id, name, status, attendance FROM registrations
WHERE event_id = $1 AND status IN ('pending', 'confirmed') AND anonymised_at IS NULL
  AND ($2::text IS NULL OR name ILIKE $2 OR email ILIKE $2)
ORDER BY lower(name), id
LIMIT $3
"""

# One tap at the door, in one statement: event $1 (by slug) with its organisation, and when the tapping
# person may write to it ($3 the organisations they may write to; NULL: every one) registration $2 of it
# marked present with its audit row (actor $4, $5). Returns the event's organisation (no row: no such
# event), the registration (NULL: not this event's, without a place, or no right to write) and whether
# it changed. A door taps hundreds of times an hour: one round trip instead of three.
MARK_PRESENT_AT_DOOR = """
WITH event AS (
    SELECT id, organisation_id, ($3::bigint[] IS NULL OR organisation_id = ANY($3::bigint[])) AS writable
    FROM events WHERE slug = $1
), target AS (
    SELECT r.id, r.attendance FROM registrations r JOIN event e ON e.id = r.event_id
    WHERE r.id = $2 AND e.writable AND r.status IN ('pending', 'confirmed')
    FOR UPDATE OF r
), marked AS (
    UPDATE registrations r SET attendance = 'present', updated_at = now()
    FROM target t WHERE r.id = t.id AND t.attendance IS DISTINCT FROM 'present'
    RETURNING r.id
), logged AS (
    INSERT INTO audit_log (actor_id, actor_email, action, organisation_id, event_id, detail)
    SELECT $4, $5, 'attendance', e.organisation_id, e.id,
           jsonb_build_object('registration', t.id, 'attendance', 'present', 'via', 'door',
                              'already_present', t.attendance IS NOT DISTINCT FROM 'present')
    FROM target t CROSS JOIN event e
)
SELECT e.organisation_id, t.id AS registration_id, EXISTS (SELECT 1 FROM marked) AS changed
FROM event e LEFT JOIN target t ON true
"""

# The common tap of MARK_PRESENT_AT_DOOR with the session's check in the same statement: the live session
# whose token hash is $1 (its last-seen time pushed on as the back-office's gate does, its end $4 further),
# its account's right to write to event $2 (by slug), registration $3 of it with a place, marked present
# with its audit row. No row when anything is not so (no live session, no right, no such registration):
# the caller then takes the long way, which says why. One round trip and one pooled connection instead
# of two of each: the door's phones tap all evening.
MARK_PRESENT_BY_SESSION = """
WITH staff AS (
    SELECT s.id AS session_id, o.id, o.email, o.is_admin, s.last_seen_at < now() - interval '1 minute' AS stale
    FROM sessions s JOIN organisers o ON o.id = s.organiser_id
    WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
), touched AS (
    UPDATE sessions s SET last_seen_at = now(), expires_at = now() + $4::interval
    FROM staff st WHERE s.id = st.session_id AND st.stale
), event AS (
    SELECT e.id, e.organisation_id, st.id AS actor_id, st.email AS actor_email
    FROM events e JOIN staff st ON st.is_admin OR EXISTS (
        SELECT 1 FROM memberships m
        WHERE m.organiser_id = st.id AND m.organisation_id = e.organisation_id AND m.role IN ('admin', 'organiser'))
    WHERE e.slug = $2
), target AS (
    SELECT r.id, r.attendance FROM registrations r JOIN event e ON e.id = r.event_id
    WHERE r.id = $3 AND r.status IN ('pending', 'confirmed')
    FOR UPDATE OF r
), marked AS (
    UPDATE registrations r SET attendance = 'present', updated_at = now()
    FROM target t WHERE r.id = t.id AND t.attendance IS DISTINCT FROM 'present'
    RETURNING r.id
), logged AS (
    INSERT INTO audit_log (actor_id, actor_email, action, organisation_id, event_id, detail)
    SELECT e.actor_id, e.actor_email, 'attendance', e.organisation_id, e.id,
           jsonb_build_object('registration', t.id, 'attendance', 'present', 'via', 'door',
                              'already_present', t.attendance IS NOT DISTINCT FROM 'present')
    FROM target t CROSS JOIN event e
)
SELECT EXISTS (SELECT 1 FROM marked) AS changed FROM target
"""

# takes back a door's "present" of registration $1 of event $2; no row when it was not marked present
UNMARK_PRESENT = """
UPDATE registrations SET attendance = NULL, updated_at = now()
WHERE id = $1 AND event_id = $2 AND attendance = 'present'
RETURNING id
"""

# ---------------------------------------------------------------------------- the attendance sheet

# the people expected at event $1 (a seat held), by name, with their commune
SHEET_PEOPLE = """
SELECT id, name, commune, attendance FROM registrations
WHERE event_id = $1 AND status IN ('pending', 'confirmed') AND anonymised_at IS NULL
ORDER BY lower(name), id
"""
