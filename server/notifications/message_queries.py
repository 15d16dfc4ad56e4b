"""SQL the messages read: the current registration behind an outbox row, and its neighbours."""

# one registration as it is now (the mail is written from it, not from the queued copy)
REGISTRATION = """
SELECT id, event_id, token_nonce, name, email, language, status, hold_expires_at, waitlisted_at,
       confirmed_at, cancelled_at, anonymised_at
FROM registrations WHERE id = $1
"""

# the registrations of a whole-series request with their dates, in date order, and each one's queue place
SERIES_REGISTRATIONS = """
SELECT r.id, r.token_nonce, r.status, r.hold_expires_at, r.anonymised_at,
       e.starts_at, e.ends_at, e.timezone, e.kind, e.join_url, e.status AS event_status,
       CASE WHEN r.status = 'waitlisted' THEN (
           SELECT count(*) FROM registrations w
           WHERE w.event_id = r.event_id AND w.status = 'waitlisted'
             AND (w.waitlisted_at, w.id) <= (r.waitlisted_at, r.id))
       END AS position
FROM registrations r JOIN events e ON e.id = r.event_id
WHERE r.id = ANY($1::bigint[])
ORDER BY e.starts_at, r.id
"""
