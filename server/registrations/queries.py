"""SQL for registrations, seats, waiting lists and rate limits."""

# ---------------------------------------------------------------------------- seats, under the event lock

# Event columns a seat decision reads. FOR NO KEY UPDATE serializes seat decisions on the event row
# (and conflicts with events/service's FOR UPDATE) without blocking other tables' foreign-key checks.
# seats_taken and waitlist_length come from the row as it is once the lock is held; the stale-hold
# test reads the statement's snapshot, which is enough: a hold that ran out by now() existed before it.
_SEAT_COLUMNS = """
    e.id, e.slug, e.status, e.capacity, e.seats_taken, e.waitlist_length, e.confirmation_required,
    e.starts_at, e.ends_at, e.timezone, e.registration_opens_at, e.registration_closes_at, e.series_id,
    EXISTS (SELECT 1 FROM registrations h WHERE h.event_id = e.id AND h.status = 'pending'
            AND h.hold_expires_at <= now()) AS has_stale_holds
"""

# one non-draft event by slug, locked for a seat decision
EVENT_BY_SLUG_FOR_SEATS = f"SELECT {_SEAT_COLUMNS} FROM events e WHERE e.slug = $1 AND e.status <> 'draft' FOR NO KEY UPDATE"

# events by id, locked in id order (two requests locking several events never deadlock)
EVENTS_BY_ID_FOR_SEATS = f"SELECT {_SEAT_COLUMNS} FROM events e WHERE e.id = ANY($1::bigint[]) ORDER BY e.id FOR NO KEY UPDATE"

# the same, skipping events whose lock another transaction holds (that one tidies them itself)
EVENT_BY_ID_FOR_SEATS_SKIP_LOCKED = f"SELECT {_SEAT_COLUMNS} FROM events e WHERE e.id = $1 FOR NO KEY UPDATE SKIP LOCKED"

# the id and series of a non-draft event, without a lock
EVENT_FOR_REQUEST = "SELECT id, series_id FROM events WHERE slug = $1 AND status <> 'draft'"

# the occurrences of a series that may still take registrations (the window is checked in Python)
SERIES_OPEN_IDS = """
SELECT id FROM events WHERE series_id = $1 AND status = 'published' AND ends_at > now() ORDER BY id
"""

# the events with a hold that ran out
EVENTS_WITH_STALE_HOLDS = """
SELECT DISTINCT event_id FROM registrations WHERE status = 'pending' AND hold_expires_at <= now()
"""

# ends the holds of an event that ran out; returns the people to tell
EXPIRE_STALE_HOLDS = """
UPDATE registrations SET status = 'expired', updated_at = now()
WHERE event_id = $1 AND status = 'pending' AND hold_expires_at <= now()
RETURNING id, email, language
"""

# moves up to $2 (NULL: all) of the oldest waitlisted people into seats: confirmed when the event
# needs no confirmation ($4 false) or they proved their address already, else pending until $3.
# Instants come from clock_timestamp(), read under the lock, so that they follow the lock's order.
PROMOTE_WAITLISTED = """
WITH chosen AS (
    SELECT id FROM registrations
    WHERE event_id = $1 AND status = 'waitlisted'
    ORDER BY waitlisted_at, id
    LIMIT $2
    FOR UPDATE
)
UPDATE registrations r SET
    status = CASE WHEN NOT $4::boolean OR r.email_confirmed_at IS NOT NULL THEN 'confirmed' ELSE 'pending' END,
    hold_expires_at = CASE WHEN NOT $4::boolean OR r.email_confirmed_at IS NOT NULL THEN NULL ELSE $3::timestamptz END,
    confirmed_at = CASE WHEN NOT $4::boolean OR r.email_confirmed_at IS NOT NULL THEN clock_timestamp() END,
    updated_at = now()
FROM chosen
WHERE r.id = chosen.id
RETURNING r.id, r.email, r.language, r.status, r.waitlisted_at
"""

# a new registration; returns nothing when the address already has a live one at this event
INSERT_REGISTRATION = """
INSERT INTO registrations (
    event_id, token_nonce, token_hash, name, email, language, status, commune, interpretation,
    accessibility, whole_series, request_id, source, consent_at, hold_expires_at, waitlisted_at,
    confirmed_at, attendance)
VALUES ($1, $2, $3, $4, lower($5), $6, $7::text, $8, $9, $10, $11, $12, $13,
        CASE WHEN $14::boolean THEN now() END, $15,
        CASE WHEN $7::text = 'waitlisted' THEN clock_timestamp() END,
        CASE WHEN $7::text = 'confirmed' THEN clock_timestamp() END, $16)
ON CONFLICT (event_id, email) WHERE status IN ('pending', 'confirmed', 'waitlisted') DO NOTHING
RETURNING id
"""

# the live registration of an address at an event
LIVE_REGISTRATION_FOR_EMAIL = """
SELECT id, status FROM registrations
WHERE event_id = $1 AND email = lower($2) AND status IN ('pending', 'confirmed', 'waitlisted')
"""

# confirms pending seats whose hold still runs ($2: the organiser's word, hold or not); returns them
CONFIRM_PENDING = """
UPDATE registrations SET status = 'confirmed', confirmed_at = clock_timestamp(), hold_expires_at = NULL,
       email_confirmed_at = CASE WHEN $2::boolean THEN email_confirmed_at ELSE coalesce(email_confirmed_at, now()) END,
       updated_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'pending' AND ($2::boolean OR hold_expires_at > now())
RETURNING id, event_id, email, language
"""

# a person on the waiting list proved their address: promoted later, they are confirmed at once
MARK_EMAIL_CONFIRMED = """
UPDATE registrations SET email_confirmed_at = now(), updated_at = now()
WHERE id = ANY($1::bigint[]) AND status = 'waitlisted' AND email_confirmed_at IS NULL
"""

# gives an expired hold its seat back, confirmed (the person clicked the link late and a seat is free)
REVIVE_EXPIRED = """
UPDATE registrations SET status = 'confirmed', confirmed_at = clock_timestamp(), hold_expires_at = NULL,
       email_confirmed_at = coalesce(email_confirmed_at, now()), updated_at = now()
WHERE id = $1 AND status = 'expired'
RETURNING id, event_id, email, language
"""

# cancels live registrations; returns them with the status each had
CANCEL_LIVE = """
UPDATE registrations r SET status = 'cancelled', cancelled_at = now(), hold_expires_at = NULL, updated_at = now()
FROM (SELECT id, status FROM registrations WHERE id = ANY($1::bigint[]) FOR UPDATE) AS before
WHERE r.id = before.id AND before.status IN ('pending', 'confirmed', 'waitlisted')
RETURNING r.id, r.event_id, r.email, r.language, before.status AS previous_status
"""

# ---------------------------------------------------------------------------- reading

# the status of one registration as it is now
REGISTRATION_STATUS = "SELECT status FROM registrations WHERE id = $1"

# the registration behind a token hash
REGISTRATION_BY_TOKEN_HASH = "SELECT * FROM registrations WHERE token_hash = $1"

# a person's place on the waiting list (1 = next to get a seat)
WAITLIST_POSITION = """
SELECT count(*) FROM registrations
WHERE event_id = $1 AND status = 'waitlisted' AND (waitlisted_at, id) <= ($2::timestamptz, $3::bigint)
"""

# every registration of a whole-series request, in date order, with its event's time
REQUEST_REGISTRATIONS = """
SELECT r.id, r.event_id, r.status, r.token_nonce, r.email, r.language, e.slug, e.starts_at, e.ends_at, e.timezone
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.request_id = $1
ORDER BY e.starts_at, r.id
"""

# registrations by id with their event's date, in date order
REGISTRATIONS_IN_DATE_ORDER = """
SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = ANY($1::bigint[]) ORDER BY e.starts_at, r.id
"""

# one registration with its event's slug and organisation (organiser endpoints check roles on it)
# and its place on the waiting list
REGISTRATION_FOR_ORGANISER = """
SELECT r.*, e.organisation_id, e.slug AS event_slug,
       CASE WHEN r.status = 'waitlisted' THEN (
           SELECT count(*) FROM registrations w WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
              AND (w.waitlisted_at, w.id) <= (r.waitlisted_at, r.id)) END AS waitlist_position
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = $1
"""

# the commune of Luxembourg a person named, spelt as the law spells it
COMMUNE_BY_NAME = "SELECT name FROM communes WHERE lower(name) = lower($1)"

# an event's registrations for organisers after id $4, filtered by status and attendance (NULL: any),
# with each waitlisted one's position
_ORGANISER_ROWS = """
WITH positions AS (
    SELECT id, row_number() OVER (ORDER BY waitlisted_at, id) AS position
    FROM registrations WHERE event_id = $1 AND status = 'waitlisted'
)
SELECT r.*, p.position AS waitlist_position
FROM registrations r LEFT JOIN positions p ON p.id = r.id
WHERE r.event_id = $1 AND ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.attendance = $3)
"""
ORGANISER_REGISTRATION_PAGE = _ORGANISER_ROWS + " AND ($4::bigint IS NULL OR r.id > $4) ORDER BY r.id LIMIT $5"

# every registration of an event for the export, in registration order
ORGANISER_REGISTRATIONS_ALL = _ORGANISER_ROWS + " ORDER BY r.id"

# counts of an event's registrations by every dimension of the stats
STATS_ROWS = """
SELECT status, attendance, language, commune, interpretation,
       coalesce(accessibility, '') <> '' AS needs_access, count(*)::int AS n
FROM registrations WHERE event_id = $1
GROUP BY 1, 2, 3, 4, 5, 6
"""

# ---------------------------------------------------------------------------- organiser changes

# the id and status of the given registrations of an event
REGISTRATION_STATUSES = "SELECT id, status FROM registrations WHERE event_id = $1 AND id = ANY($2::bigint[])"

# sets (or clears) attendance for many registrations of an event
SET_ATTENDANCE = """
UPDATE registrations r SET attendance = m.attendance, updated_at = now()
FROM unnest($2::bigint[], $3::text[]) AS m(id, attendance)
WHERE r.id = m.id AND r.event_id = $1
"""

# the personal fields an organiser may correct; the service builds its UPDATE from this allow-list
PATCHABLE_COLUMNS = ("attendance", "name", "email", "language", "commune", "interpretation", "accessibility")

# ---------------------------------------------------------------------------- privacy

# registrations of events that ended before now() - $1, still carrying personal data ($2 at a time)
DUE_FOR_ANONYMISATION = """
SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.anonymised_at IS NULL AND e.ends_at < now() - $1::interval
ORDER BY r.id
LIMIT $2
FOR UPDATE OF r SKIP LOCKED
"""

# wipes the personal data of registrations; status, language and attendance stay for the counts, and
# commune and interpretation too unless $2 (the person asked for everything to go)
ANONYMISE = """
UPDATE registrations SET name = NULL, email = NULL, token_nonce = NULL, token_hash = NULL, accessibility = NULL,
       commune = CASE WHEN $2::boolean THEN NULL ELSE commune END,
       interpretation = CASE WHEN $2::boolean THEN NULL ELSE interpretation END,
       anonymised_at = now(), updated_at = now()
WHERE id = ANY($1::bigint[]) AND anonymised_at IS NULL
"""

# forgets the address on the mails of these registrations; unsent ones are skipped, with why
FORGET_RECIPIENTS = """
UPDATE outbox SET recipient = NULL,
       last_error = CASE WHEN status IN ('queued', 'retrying') THEN $2 ELSE last_error END,
       status = CASE WHEN status IN ('queued', 'retrying') THEN 'skipped' ELSE status END
WHERE registration_id = ANY($1::bigint[])
"""

# ---------------------------------------------------------------------------- abuse

# counts one attempt for each key in the current window of length $2; returns each key's attempts
# and the seconds left in the window. Keys lock in the order given (address, then email): no deadlock.
COUNT_ATTEMPTS = """
INSERT INTO rate_limits AS l (key, window_start)
SELECT key, date_bin($2::interval, now(), TIMESTAMPTZ 'epoch') FROM unnest($1::text[]) WITH ORDINALITY AS k(key, n)
ORDER BY n
ON CONFLICT (key, window_start) DO UPDATE SET hits = l.hits + 1
RETURNING l.key, l.hits, greatest(1, ceil(extract(epoch FROM l.window_start + $2::interval - now())))::int AS retry_after
"""

# forgets counters of windows that ended more than a day ago
PURGE_RATE_LIMITS = "DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'"
