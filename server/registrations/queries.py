"""SQL for registrations: the manage link, reading, organiser changes, privacy, join links, check-in."""

# ---------------------------------------------------------------------------- abuse

# forgets counters of windows that ended more than a day ago
PURGE_RATE_LIMITS = "DELETE FROM rate_limits WHERE window_start < now() - interval '1 day'"


# ---------------------------------------------------------------------------- registrations (seats: seat_queries.py)

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

# one registration with its event's slug and organisation (organiser endpoints check roles on it)
# and its place on the waiting list
REGISTRATION_FOR_ORGANISER = """
SELECT r.*, e.organisation_id, e.slug AS event_slug,
       (SELECT j.first_joined_at FROM registration_joins j WHERE j.registration_id = r.id) AS joined_at,
       CASE WHEN r.status = 'waitlisted' THEN (
           SELECT count(*) FROM registrations w WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
              AND (w.waitlisted_at, w.id) <= (r.waitlisted_at, r.id)) END AS waitlist_position
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = $1
"""

# Luxembourg's communes, spelt as the law spells them
ALL_COMMUNES = "SELECT name FROM communes"

# an event's registrations for organisers, filtered by status and attendance (NULL: any)
_ORGANISER_ROWS = """
SELECT r.*, (SELECT j.first_joined_at FROM registration_joins j WHERE j.registration_id = r.id) AS joined_at
FROM registrations r
WHERE r.event_id = $1 AND ($2::text IS NULL OR r.status = $2) AND ($3::text IS NULL OR r.attendance = $3)
"""
# a page of them after id $4 (NULL: from the start), in registration order: with the cursor as an
# index condition, (event_id, id) reads the page alone (migration 0009), whatever the plan
ORGANISER_REGISTRATION_PAGE = _ORGANISER_ROWS + " AND r.id > coalesce($4::bigint, 0) ORDER BY r.id LIMIT $5"

# every registration of an event for the export, in registration order
ORGANISER_REGISTRATIONS_ALL = _ORGANISER_ROWS + " ORDER BY r.id"

# the places on event $1's waiting list (1 = next to get a seat) of its registrations with the
# waitlisted_at $2 and ids $3, those still waiting. Each one's place is the count of the list up to
# it: the stretch since the one before, counted by index, summed in order, so the list is read only
# up to the last of them. Asked apart from the rows: joined to them, a generic plan counted the list
# again for every row.
WAITLIST_POSITIONS = """
SELECT id, position FROM (
    SELECT p.id, c.present, (sum(c.n) OVER (ORDER BY p.waitlisted_at, p.id))::bigint AS position
    FROM (SELECT u.*, lag(u.waitlisted_at, 1, '-infinity') OVER k AS after_at,
                 lag(u.id, 1, 0::bigint) OVER k AS after_id
          FROM unnest($2::timestamptz[], $3::bigint[]) AS u(waitlisted_at, id)
          WINDOW k AS (ORDER BY u.waitlisted_at, u.id)) p
    CROSS JOIN LATERAL (
        SELECT count(*) AS n, bool_or(w.id = p.id) AS present FROM registrations w
        WHERE w.event_id = $1 AND w.status = 'waitlisted'
          AND (w.waitlisted_at, w.id) > (p.after_at, p.after_id) AND (w.waitlisted_at, w.id) <= (p.waitlisted_at, p.id)
    ) c
) counted
WHERE present
"""

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

# registrations of events that ended before now() - $1, still carrying personal data ($2 at a time),
# among the events not marked done (migration 0012). The events come first and each one's people by
# its index: joined freely, PostgreSQL took the few events for thousands and read every registration.
DUE_FOR_ANONYMISATION = """
WITH ended AS MATERIALIZED (
    SELECT id FROM events WHERE registrations_anonymised_at IS NULL AND ends_at < now() - $1::interval
)
SELECT r.id FROM ended e
CROSS JOIN LATERAL (
    SELECT r.id FROM registrations r WHERE r.event_id = e.id AND r.anonymised_at IS NULL
    FOR UPDATE SKIP LOCKED
) r
LIMIT $2
"""

# the events that ended before now() - $1 and are not marked done, locked: a registration made for
# one of them now waits for the mark, and then undoes it (0012)
EVENTS_TO_MARK_ANONYMISED = """
SELECT id FROM events
WHERE registrations_anonymised_at IS NULL AND ends_at < now() - $1::interval
FOR UPDATE SKIP LOCKED
"""

# marks done those of the events $1 whose registrations are all anonymised (a statement of its
# own, after the lock, so that it sees every registration committed before)
MARK_EVENTS_ANONYMISED = """
UPDATE events e SET registrations_anonymised_at = now()
WHERE e.id = ANY($1::bigint[])
  AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.anonymised_at IS NULL)
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

# those of the given registrations whose event has not started yet
UPCOMING_AMONG = """
SELECT r.id, r.event_id FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = ANY($1::bigint[]) AND e.starts_at > now()
"""

# forgets the address on the mails of these registrations; unsent ones are skipped, with why
FORGET_RECIPIENTS = """
UPDATE outbox SET recipient = NULL,
       last_error = CASE WHEN status IN ('queued', 'retrying') THEN $2 ELSE last_error END,
       status = CASE WHEN status IN ('queued', 'retrying') THEN 'skipped' ELSE status END
WHERE registration_id = ANY($1::bigint[])
"""


# ---------------------------------------------------------------------------- personal join links

# what following a join link needs: the registration ($1, from the token) and its event
JOIN_TARGET = """
SELECT r.id, r.token_nonce, r.status, r.language, e.kind, e.status AS event_status, e.join_url
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = $1
"""

# records a join of a registration still confirmed: the first join's instant is never overwritten
# (the primary key serialises two joins at once), and the first join marks the person present unless
# an organiser has already set an attendance. Returns no row when the registration is no longer confirmed.
# The instant is read once: two calls of clock_timestamp() can differ by a microsecond.
RECORD_JOIN = """
WITH instant AS MATERIALIZED (
    SELECT clock_timestamp() AS at
), joined AS (
    INSERT INTO registration_joins AS j (registration_id, first_joined_at, last_joined_at)
    SELECT r.id, instant.at, instant.at FROM registrations r, instant WHERE r.id = $1 AND r.status = 'confirmed'
    ON CONFLICT (registration_id) DO UPDATE
        SET last_joined_at = greatest(j.last_joined_at, EXCLUDED.last_joined_at), joins = j.joins + 1
    RETURNING (xmax = 0) AS first
), marked AS (
    UPDATE registrations r SET attendance = 'present', updated_at = now()
    FROM joined WHERE joined.first AND r.id = $1 AND r.attendance IS NULL
    RETURNING r.id
)
SELECT first, (SELECT count(*) FROM marked) AS marked FROM joined
"""

# ---------------------------------------------------------------------------- check-in at the door

# what a check-in needs of the registration ($1, from the QR's token) and its event
CHECKIN_TARGET = """
SELECT r.id, r.token_nonce, r.status, r.name, r.attendance, e.organisation_id, e.slug AS event_slug,
       e.title AS event_title, e.languages AS event_languages, e.status AS event_status
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = $1
"""

# marks a person present at the door; no row when they were already (a second scan changes nothing)
MARK_PRESENT = """
UPDATE registrations SET attendance = 'present', updated_at = now()
WHERE id = $1 AND attendance IS DISTINCT FROM 'present' AND status IN ('pending', 'confirmed')
RETURNING id
"""
