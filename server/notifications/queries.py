"""SQL of the notifier: claiming and recording outbox rows, planning reminders, the organisers' view."""

# the channel the outbox triggers notify (migrations/0004_notifier.sql)
WAKE_CHANNEL = "zesummen_outbox"

# ---------------------------------------------------------------------------- the worker

# leases up to $1 due rows nobody holds to worker $2 for $3, oldest due first; returns them
CLAIM_DUE = """
WITH due AS (
    SELECT id FROM outbox
    WHERE status IN ('queued', 'retrying') AND due_at <= now()
      AND (lease_until IS NULL OR lease_until < now())
    ORDER BY due_at, id
    LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE outbox o
   SET lease_owner = $2, lease_until = now() + $3::interval, attempts = o.attempts + 1, last_attempt_at = now()
FROM due WHERE o.id = due.id
RETURNING o.id, o.kind, o.event_id, o.registration_id, o.recipient, o.language, o.payload, o.due_at,
          o.attempts, o.expires_at, o.created_at,
          -- judged by the database's clock, the one every copy shares
          coalesce(o.expires_at < now(), false) AS expired
"""

# seconds until the next row may be claimed (due and not leased), or NULL when none waits
SECONDS_TO_NEXT_DUE = """
SELECT extract(epoch FROM min(greatest(due_at, coalesce(lease_until, due_at))) - now())::float8
FROM outbox WHERE status IN ('queued', 'retrying')
"""

# records a result ($3 status, $4 error, $5 next attempt's delay for a retry) if worker $2 still holds the lease
RECORD_RESULT = """
UPDATE outbox
   SET status = $3, last_error = $4,
       due_at = CASE WHEN $5::interval IS NULL THEN due_at ELSE now() + $5::interval END,
       sent_at = CASE WHEN $3 = 'sent' THEN now() ELSE sent_at END,
       lease_until = NULL, lease_owner = NULL
WHERE id = $1 AND lease_owner = $2
RETURNING id
"""

# gives a row claimed by worker $2 back untried ($3 why): the SMTP server could not be reached, which
# is not the message's fault, so its attempt does not count and its due time stays (the queue keeps
# its order for when the server is back)
GIVE_BACK_UNTRIED = """
UPDATE outbox
   SET status = 'retrying', last_error = $3, attempts = attempts - 1, lease_until = NULL, lease_owner = NULL
WHERE id = $1 AND lease_owner = $2
RETURNING id
"""

# takes the lock of one periodic job if no other copy holds it; returns whether it did
TRY_JOB_LOCK = "SELECT pg_try_advisory_lock($1::int, hashtext($2))"
JOB_UNLOCK = "SELECT pg_advisory_unlock($1::int, hashtext($2))"

# ---------------------------------------------------------------------------- reminders
# Offsets go into payloads and dedupe keys as ISO 8601 durations (P1D, PT1H): the planning
# transaction sets intervalstyle to iso_8601 so that interval::text writes them that way.

ISO_INTERVALS = "SET LOCAL intervalstyle = 'iso_8601'"

# queues each reminder due within $1 for the confirmed people of upcoming published events, each
# (registration, offset, revision) once; not sent after its moment plus $2. A person confirmed after a
# reminder's moment never gets that one (their confirmation is fresher news). Returns how many it queued.
PLAN_REMINDERS = """
WITH due AS MATERIALIZED (
    -- the (event, reminder) pairs due by now + $1: a few hundred, found by the events' start
    SELECT e.id, e.starts_at, e.revision, o.step
    FROM events e
    CROSS JOIN LATERAL unnest(e.reminders) AS o(step)
    WHERE e.status = 'published' AND e.starts_at > now()
      -- a reminder comes at most 60 days before the start (events/rules.py): this bound lets the
      -- plan read the events of the next weeks by their start, not every upcoming one
      AND e.starts_at <= now() + $1::interval + interval '60 days'
      AND e.starts_at - o.step <= now() + $1::interval
), planned AS (
    INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, due_at, expires_at, dedupe_key)
    SELECT 'reminder', d.id, r.id, r.email, r.language,
           jsonb_build_object('offset', d.step::text, 'revision', d.revision),
           d.starts_at - d.step, d.starts_at - d.step + $2::interval,
           format('reminder:%s:%s:%s', r.id, d.step::text, d.revision)
    FROM due d
    -- each pair's people by the event's index; OFFSET 0 keeps this a subquery of its own, since
    -- PostgreSQL, joining freely, took the few hundred pairs for thousands and read every registration
    CROSS JOIN LATERAL (
        SELECT r.id, r.email, r.language FROM registrations r
        WHERE r.event_id = d.id AND r.status = 'confirmed' AND r.email IS NOT NULL
          AND coalesce(r.confirmed_at, r.created_at) <= d.starts_at - d.step
        OFFSET 0
    ) r
    WHERE NOT EXISTS (SELECT 1 FROM outbox x
                      WHERE x.dedupe_key = format('reminder:%s:%s:%s', r.id, d.step::text, d.revision))
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM planned
"""

# skips the waiting reminders that no longer apply, saying why; returns how many
DROP_STALE_REMINDERS = """
WITH stale AS (
    UPDATE outbox o SET status = 'skipped', last_error = CASE
        WHEN e.status = 'cancelled' THEN 'the event was cancelled'
        WHEN (o.payload->>'revision')::int <> e.revision
            THEN format('the event moved (now revision %s): its reminders were planned again', e.revision)
        WHEN r.status <> 'confirmed' THEN format('the registration is %s now', r.status)
        ELSE 'this reminder was removed from the event' END
    FROM events e, registrations r
    WHERE o.kind = 'reminder' AND o.status IN ('queued', 'retrying')
      AND e.id = o.event_id AND r.id = o.registration_id
      AND (e.status = 'cancelled'
           OR (o.payload->>'revision')::int <> e.revision
           OR r.status <> 'confirmed'
           OR NOT (o.payload->>'offset' = ANY (SELECT step::text FROM unnest(e.reminders) AS step)))
    RETURNING 1
)
SELECT count(*) FROM stale
"""

# ---------------------------------------------------------------------------- organisers

# an event's messages counted by status
EVENT_MESSAGE_COUNTS = "SELECT status, count(*)::int AS n FROM outbox WHERE event_id = $1 GROUP BY status"

# the columns an organiser sees of a message
_MESSAGE_COLUMNS = """
id, kind, registration_id, recipient, language, status, attempts, due_at, last_attempt_at, sent_at,
last_error, created_at, resent_from
"""

# an event's messages with status $2, latest first, at most $3
EVENT_MESSAGES = f"""
SELECT {_MESSAGE_COLUMNS} FROM outbox
WHERE event_id = $1 AND status = $2
ORDER BY coalesce(last_attempt_at, created_at) DESC, id DESC
LIMIT $3
"""

# one message with its event's organisation, locked for a resend
MESSAGE_FOR_UPDATE = """
SELECT o.*, e.organisation_id FROM outbox o JOIN events e ON e.id = o.event_id
WHERE o.id = $1 FOR UPDATE OF o
"""

# one message as an organiser sees it
MESSAGE_BY_ID = f"SELECT {_MESSAGE_COLUMNS} FROM outbox WHERE id = $1"

# puts a message that was not sent back into the queue, due now, with a fresh count of attempts
REQUEUE = """
UPDATE outbox SET status = 'queued', due_at = now(), attempts = 0, last_error = NULL, expires_at = NULL,
       lease_until = NULL, lease_owner = NULL
WHERE id = $1
"""

# queues a fresh copy of a sent message (a new Message-ID: clients drop a second copy of a known one)
RESEND_COPY = """
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, resent_from)
SELECT o.kind, o.event_id, o.registration_id, coalesce(r.email, o.recipient), o.language, o.payload, o.id
FROM outbox o LEFT JOIN registrations r ON r.id = o.registration_id
WHERE o.id = $1
RETURNING id
"""

# the people of an event with one of the statuses $2 who can be written to
REGISTRANTS_WITH_STATUS = """
SELECT id, email, language FROM registrations
WHERE event_id = $1 AND status = ANY($2::text[]) AND email IS NOT NULL AND anonymised_at IS NULL
ORDER BY id
"""
