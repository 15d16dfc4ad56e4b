"""SQL of seat decisions, all under the event lock: the locked event, taking seats, holds, the waiting list."""

from server.outbox import CAP_REACHED, CAP_REASON


# Sets lock_timeout ($n, e.g. '5000ms') for the rest of the transaction before any row is locked:
# an uncorrelated subquery runs once, ahead of the scan whose rows FOR ... UPDATE then locks. A
# single statement is a transaction of its own, so the setting ends with it.
def _with_lock_timeout(param: str) -> str:
    return f"(SELECT set_config('lock_timeout', {param}, true) IS NOT NULL)"


_SEATS_FROM = "events e JOIN event_seats st ON st.event_id = e.id"


# Event columns a seat decision reads. FOR NO KEY UPDATE serializes seat decisions on the event row
# (and conflicts with events/service's FOR UPDATE) without blocking other tables' foreign-key checks.
# It locks the event's counters too (_SEATS_FROM, event first), so that seats_taken and
# waitlist_length come from their row as it is once the lock is held (migration 0024); the stale-hold
# test reads the statement's snapshot, which is enough: a hold that ran out by now() existed before it.
_SEAT_COLUMNS = """
    e.id, e.slug, e.status, e.capacity, st.seats_taken, st.waitlist_length, e.confirmation_required,
    e.starts_at, e.ends_at, e.timezone, e.registration_opens_at, e.registration_closes_at, e.series_id,
    EXISTS (SELECT 1 FROM registrations h WHERE h.event_id = e.id AND h.status = 'pending'
            AND h.hold_expires_at <= now()) AS has_stale_holds
"""

# one non-draft event by slug, locked for seat decisions (lock timeout $2)
EVENT_BY_SLUG_FOR_SEATS = f"""
SELECT {_SEAT_COLUMNS} FROM {_SEATS_FROM}
WHERE e.slug = $1 AND e.status <> 'draft' AND {_with_lock_timeout("$2")}
FOR NO KEY UPDATE
"""

# events by id, locked in id order so that two requests locking several never deadlock (lock timeout $2)
EVENTS_BY_ID_FOR_SEATS = f"""
SELECT {_SEAT_COLUMNS} FROM {_SEATS_FROM}
WHERE e.id = ANY($1::bigint[]) AND {_with_lock_timeout("$2")}
ORDER BY e.id
FOR NO KEY UPDATE
"""

# one event, skipped when another transaction holds its lock (that one settles it itself)
EVENT_BY_ID_FOR_SEATS_SKIP_LOCKED = (
    f"SELECT {_SEAT_COLUMNS} FROM {_SEATS_FROM} WHERE e.id = $1 FOR NO KEY UPDATE SKIP LOCKED"
)

# When an unconfirmed seat goes back: after the hold ({hold}), never past the start (nor past the
# end when the registration window outlasts the start). {e} names the event's row.
_HOLD_UNTIL = "least(now() + {hold}::interval, CASE WHEN {e}.starts_at > now() THEN {e}.starts_at ELSE {e}.ends_at END)"

# Counts the attempts, takes a seat or a place on the waiting list for each of several people at the
# event with slug $1, and queues their mail, all in ONE statement: run on its own it holds the
# event's lock only while the database executes it, so registrations to a busy event follow each
# other without waiting on any client, and the people who came while one statement ran share the
# next (service.PUBLIC_SEATS, group_commit.py): one lock, one hand-over, for all of them.
# The people are decided in the order given, each as if alone after those before: a seat while one
# is free and nobody waits (service.seat_for_newcomer says the same), `pending` until the address
# is confirmed when the event asks for it and the request is public, else `confirmed`; otherwise the
# waiting list. A person gets no row when the event is cancelled, its window is shut (public
# requests), a hold ran out (the caller settles the event and comes back), the waiting list is not
# wanted ($18, single people only), a rate limit is passed, or the address already has a live
# registration (or came earlier in the same statement). Returns one row per person, in order: the
# event's state, the decision, the new registration's id if any and the wait when over a limit.
# People: $2, $3 token nonces and hashes, $4-$9 name, email, language, commune, interpretation,
# accessibility, $14 attendance (arrays of the same length). For all: $10 whole_series, $11 request
# id, $12 source, $13 hold, $15 queue the mail, $16, $17 the daily cap and the kinds it counts, $19
# lock timeout. Rate limits: $20 keys with $21 their limits and $23 the person (1-based) each is
# counted for, in windows of $22 (empty arrays: already counted). Over a limit nothing is written
# for that person but the attempt; `retry_after` then says when to come back.
TAKE_SEATS = f"""
WITH asked AS (
    SELECT * FROM unnest($2::bytea[], $3::bytea[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                         $9::text[], $14::text[])
        WITH ORDINALITY AS p(nonce, token_hash, name, email, language, commune, interpretation, accessibility,
                             attendance, n)
), tries AS (
    -- the nth try of a key in this statement comes after the n - 1 before it
    SELECT t.key, t.most, t.person, row_number() OVER (PARTITION BY t.key ORDER BY t.person) AS nth,
           count(*) OVER (PARTITION BY t.key) AS tries
    FROM unnest($20::text[], $21::int[], $23::int[]) AS t(key, most, person)
), attempts AS (
    -- one row per key and window; keys lock in text order ("address:" before "email:", as one by one)
    INSERT INTO rate_limits AS l (key, window_start, hits)
    SELECT key, date_bin($22::interval, now(), TIMESTAMPTZ 'epoch'), count(*) FROM tries GROUP BY key ORDER BY key
    ON CONFLICT (key, window_start) DO UPDATE SET hits = l.hits + excluded.hits
    RETURNING l.key, l.hits,
              greatest(1, ceil(extract(epoch FROM l.window_start + $22::interval - now())))::int AS retry_after
), limited AS (
    SELECT t.person, coalesce(max(a.retry_after) FILTER (WHERE a.hits - t.tries + t.nth > t.most), 0) AS retry_after
    FROM tries t JOIN attempts a USING (key)
    GROUP BY t.person
), event AS MATERIALIZED (
    -- the counters first (after the lock timeout is set), then the event: the order in which a
    -- whole-series request, counted in its own statement, takes them too
    SELECT {_SEAT_COLUMNS} FROM {_SEATS_FROM}
    WHERE e.slug = $1 AND (e.status <> 'draft' OR $12::text = 'organiser') AND {_with_lock_timeout("$19")}
      AND (SELECT count(*) FROM attempts) >= 0
    FOR NO KEY UPDATE
), people AS (
    -- newcomer: within the limits, the first of its address here, and none live at the event yet
    -- (read under the event's lock, which every change to its registrations holds)
    SELECT p.*, coalesce(l.retry_after, 0) AS retry_after,
           coalesce(l.retry_after, 0) = 0
           AND (p.email IS NULL OR p.n = min(p.n) FILTER (WHERE coalesce(l.retry_after, 0) = 0)
                                        OVER (PARTITION BY lower(p.email)))
           AND known.id IS NULL AS newcomer
    FROM asked p CROSS JOIN event e LEFT JOIN limited l ON l.person = p.n
    -- one index probe per person (NOT EXISTS may be planned as a hash of every live registration)
    LEFT JOIN LATERAL (SELECT r.id FROM registrations r WHERE r.event_id = e.id AND r.email = lower(p.email)
                       AND r.status IN ('pending', 'confirmed', 'waitlisted') LIMIT 1) known ON true
), ranked AS (
    SELECT p.*, count(*) FILTER (WHERE p.newcomer) OVER (ORDER BY p.n) - p.newcomer::int AS before
    FROM people p
), decision AS (
    SELECT event.*, r.*,
           status = 'published' AND (registration_opens_at IS NULL OR registration_opens_at <= now())
               AND now() < coalesce(registration_closes_at, starts_at) AS is_open,
           -- the seats the newcomers before this person took come off the free ones
           CASE WHEN (capacity IS NULL OR seats_taken + r.before < capacity) AND waitlist_length = 0
                THEN CASE WHEN confirmation_required AND $12::text = 'public' THEN 'pending' ELSE 'confirmed' END
                ELSE 'waitlisted' END AS seat,
           waitlist_length + r.before + 1
               - CASE WHEN waitlist_length > 0 OR capacity IS NULL THEN 0 ELSE greatest(capacity - seats_taken, 0) END
               AS position
    FROM event CROSS JOIN ranked r
), inserted AS (
    INSERT INTO registrations (
        event_id, token_nonce, token_hash, name, email, language, status, commune, interpretation,
        accessibility, whole_series, request_id, source, consent_at, hold_expires_at, waitlisted_at,
        confirmed_at, attendance)
    SELECT d.id, d.nonce, d.token_hash, d.name, lower(d.email), d.language, d.seat, d.commune, d.interpretation,
           d.accessibility, $10, $11, $12::text,
           CASE WHEN $12::text = 'public' THEN now() END,
           CASE WHEN d.seat = 'pending' THEN {_HOLD_UNTIL.format(hold="$13", e="d")} END,
           -- read under the lock, so that these instants follow the lock's order (and, within one
           -- statement, the people's: the rows are made in that order)
           CASE WHEN d.seat = 'waitlisted' THEN clock_timestamp() END,
           CASE WHEN d.seat = 'confirmed' THEN clock_timestamp() END,
           d.attendance
    FROM decision d
    WHERE d.newcomer AND d.status <> 'cancelled' AND (d.is_open OR $12::text = 'organiser') AND NOT d.has_stale_holds
      AND (d.seat <> 'waitlisted' OR $18::boolean)
    ORDER BY d.n
    ON CONFLICT (event_id, email) WHERE status IN ('pending', 'confirmed', 'waitlisted') DO NOTHING
    RETURNING id, status, email, language, token_hash
), mailed AS (
    INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, status, last_error)
    SELECT CASE i.status WHEN 'pending' THEN 'registration_received'
                         WHEN 'confirmed' THEN 'registration_confirmed' ELSE 'registration_waitlisted' END,
           d.id, i.id, i.email, i.language,
           CASE WHEN i.status = 'waitlisted' THEN jsonb_build_object('position', d.position) ELSE '{{}}'::jsonb END,
           CASE WHEN cap.reached THEN 'skipped' ELSE 'queued' END,
           CASE WHEN cap.reached THEN '{CAP_REASON}' END
    FROM inserted i JOIN decision d USING (token_hash)
    CROSS JOIN LATERAL ({CAP_REACHED.format(recipient="i.email", cap="$16::int", kinds="$17::text[]")}) AS cap
    WHERE $15::boolean AND i.email IS NOT NULL
    ORDER BY d.n
)
SELECT d.n, d.id, d.slug, d.status, d.capacity, d.seats_taken, d.waitlist_length, d.confirmation_required,
       d.starts_at, d.ends_at, d.timezone, d.registration_opens_at, d.registration_closes_at, d.series_id,
       d.has_stale_holds, d.is_open, d.seat, i.id AS registration_id, d.retry_after
FROM decision d LEFT JOIN inserted i USING (token_hash)
ORDER BY d.n
"""

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

# moves up to $2 (NULL: all) of the oldest waitlisted people of event $1 into seats: confirmed when
# the event needs no confirmation or they proved their address already, else pending for the hold $3.
# Instants come from clock_timestamp(), read under the lock, so that they follow the lock's order.
PROMOTE_WAITLISTED = f"""
WITH chosen AS (
    SELECT r.id, NOT e.confirmation_required OR r.email_confirmed_at IS NOT NULL AS confirm,
           {_HOLD_UNTIL.format(hold="$3", e="e")} AS hold_until
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.event_id = $1 AND r.status = 'waitlisted'
    ORDER BY r.waitlisted_at, r.id
    LIMIT $2
    FOR UPDATE OF r
)
UPDATE registrations r SET
    status = CASE WHEN chosen.confirm THEN 'confirmed' ELSE 'pending' END,
    hold_expires_at = CASE WHEN chosen.confirm THEN NULL ELSE chosen.hold_until END,
    confirmed_at = CASE WHEN chosen.confirm THEN clock_timestamp() END,
    updated_at = now()
FROM chosen
WHERE r.id = chosen.id
RETURNING r.id, r.email, r.language, r.status, r.waitlisted_at
"""
