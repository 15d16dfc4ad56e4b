"""SQL of the back-office: sessions, password resets, the audit log, the dashboard and people."""

# ---------------------------------------------------------------------------- sessions

# a new session valid for $4; returns its id
INSERT_SESSION = """
INSERT INTO sessions (organiser_id, token_hash, user_agent, expires_at) VALUES ($1, $2, $3, now() + $4::interval)
RETURNING id
"""

# the staff member behind a live session with their roles as {organisation_id: role}, their language, and
# whether the session's last-seen time is worth writing again (more than a minute old)
STAFF_BY_SESSION = """
SELECT s.id AS session_id, o.id, o.email, o.name, o.is_admin, o.language,
       s.last_seen_at < now() - interval '1 minute' AS stale,
       coalesce(jsonb_object_agg(m.organisation_id::text, m.role) FILTER (WHERE m.organisation_id IS NOT NULL),
                '{}') AS roles
FROM sessions s
JOIN organisers o ON o.id = s.organiser_id
LEFT JOIN memberships m ON m.organiser_id = o.id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
GROUP BY s.id, o.id
"""

# marks a session as used now, and pushes its end $2 further (an idle session dies, a used one lives)
TOUCH_SESSION = "UPDATE sessions SET last_seen_at = now(), expires_at = now() + $2::interval WHERE id = $1"

# ends one session by its token hash
REVOKE_SESSION = "UPDATE sessions SET revoked_at = now() WHERE token_hash = $1 AND revoked_at IS NULL"

# ends every live session of an account but the one whose hash is $2 (NULL: all)
REVOKE_OTHER_SESSIONS = """
UPDATE sessions SET revoked_at = now()
WHERE organiser_id = $1 AND revoked_at IS NULL AND token_hash IS DISTINCT FROM $2
"""

# the live sessions of an account, newest first
LIVE_SESSIONS = """
SELECT id, user_agent, created_at, last_seen_at, token_hash = $2 AS current FROM sessions
WHERE organiser_id = $1 AND revoked_at IS NULL AND expires_at > now() ORDER BY last_seen_at DESC
"""

# sets an account's interface language
SET_LANGUAGE = "UPDATE organisers SET language = $2 WHERE id = $1"
# the same, for an account that never chose one
SET_LANGUAGE_IF_NONE = "UPDATE organisers SET language = $2 WHERE id = $1 AND language IS NULL"

# id, password hash, name and language of an account by email (sign-in and reset)
ACCOUNT_FOR_SIGN_IN = "SELECT id, email, name, password_hash, language FROM organisers WHERE email = $1"

# ---------------------------------------------------------------------------- password resets

# spends every open reset of an account (a newer one replaces them, or the password was set)
SPEND_RESETS = """
UPDATE password_resets SET spent_at = now(), token_nonce = NULL WHERE organiser_id = $1 AND spent_at IS NULL
"""

# a new reset valid for $4; returns its id and expiry
INSERT_RESET = """
INSERT INTO password_resets (organiser_id, token_nonce, token_hash, expires_at)
VALUES ($1, $2, $3, now() + $4::interval)
RETURNING id, expires_at
"""

# a reset by token hash or id with its account; `usable` when it may still set the password
_RESET = """
SELECT r.id, r.organiser_id, r.token_nonce, r.expires_at, o.email, o.name,
       r.spent_at IS NULL AND r.expires_at > now() AS usable
FROM password_resets r JOIN organisers o ON o.id = r.organiser_id
WHERE r.{column} = $1
"""
RESET_BY_TOKEN = _RESET.format(column="token_hash")
RESET_BY_ID = _RESET.format(column="id")
# the same, locking the reset and its account for setting the password
RESET_BY_TOKEN_FOR_UPDATE = RESET_BY_TOKEN + "FOR UPDATE OF r, o"

# ---------------------------------------------------------------------------- audit log

# an organisation's audit rows (and the sign-ins of its present members), newest first; $2 an event slug
# or NULL, $3 the most rows
AUDIT_OF_ORGANISATION = """
SELECT a.at, a.action, a.actor_email, a.detail, e.slug AS event_slug, e.title AS event_title
FROM audit_log a LEFT JOIN events e ON e.id = a.event_id
WHERE (a.organisation_id = $1
       OR (a.organisation_id IS NULL AND a.event_id IS NULL
           AND a.actor_id IN (SELECT organiser_id FROM memberships WHERE organisation_id = $1)))
  AND ($2::text IS NULL OR e.slug = $2)
ORDER BY a.at DESC, a.id DESC
LIMIT $3
"""

# ---------------------------------------------------------------------------- dashboard

# the coming (not yet ended) events of organisations $1 with status $2 (published or draft), soonest first,
# after the cursor ($3 starts_at, $4 id; NULLs: from the first), with their fill; at most $5. The page is
# cut before its counts are joined, so their cost is that of the page, not of the organisations' events
# (an event lasts at most 31 days, events_last_at_most_31_days: the bound on starts_at changes no answer and
# starts the organisation's index there, not at its oldest event, so years of past events are not read).
# Each organisation's page comes in order from events_dashboard_idx (0040) and the pages are merged: one
# range scan of the events of every status, or of all organisations in order of time, read a few thousand
# events on the big database to keep 11 drafts or 26 of ASTI's events
DASHBOARD_PAGE = """
SELECT e.id, e.slug, e.kind, e.status, e.title, e.languages, e.starts_at, e.ends_at, e.timezone, e.capacity,
       o.slug AS organisation_slug, o.name AS organisation_name,
       c.seats_taken, c.waitlist_length, p.pending, c.seats_taken - p.pending AS confirmed
FROM (SELECT e.* FROM unnest($1::bigint[]) AS org(id)
      CROSS JOIN LATERAL (SELECT * FROM events e
                          WHERE e.organisation_id = org.id AND e.status = $2 AND e.ends_at > now()
                            AND e.starts_at > now() - interval '31 days'
                            AND ($3::timestamptz IS NULL OR (e.starts_at, e.id) > ($3, $4::bigint))
                          ORDER BY e.starts_at, e.id
                          LIMIT $5) e
      ORDER BY e.starts_at, e.id
      LIMIT $5) e
JOIN organisations o ON o.id = e.organisation_id
JOIN event_seats c ON c.event_id = e.id
CROSS JOIN LATERAL (SELECT count(*) AS pending FROM registrations r
                    WHERE r.event_id = e.id AND r.status = 'pending') p
ORDER BY e.starts_at, e.id
"""

# how many coming events of organisations $1 with status $2 come after the cursor ($3 starts_at, $4 id),
# for the drafts' "and n more" (from events_dashboard_idx alone, which holds the columns it reads)
DASHBOARD_COUNT_AFTER = """
SELECT count(*) FROM events e
WHERE e.organisation_id = ANY($1::bigint[]) AND e.status = $2 AND e.ends_at > now()
  AND e.starts_at > now() - interval '31 days' AND (e.starts_at, e.id) > ($3, $4::bigint)
"""

# the coming published and draft events of organisations $1 that need attention, soonest first, each with
# its codes (labels.ATTENTION; this query is where they are decided) and how many need it in all after the
# cursor ($3 starts_at, $4 id) if any; at most $2. The candidates come from indexes that hold only the
# events meeting a condition (migration 0040), so the work follows the events with a problem, not the
# coming ones: no link, no venue and failed mails from partial indexes, a waiting list while seats are
# free from event_seats' flag, pending holds from the published events that run within the next 24
# hours; the codes are then decided for the candidates alone
DASHBOARD_ATTENTION = """
WITH candidates AS (
    SELECT e.id FROM events e
    WHERE e.organisation_id = ANY($1::bigint[]) AND e.kind = 'webconference' AND coalesce(e.join_url, '') = ''
      AND e.status IN ('published', 'draft') AND e.ends_at > now()
    UNION
    SELECT e.id FROM events e
    WHERE e.organisation_id = ANY($1::bigint[]) AND e.kind = 'info_session' AND coalesce(e.venue, '') = ''
      AND NOT e.online AND e.status IN ('published', 'draft') AND e.ends_at > now()
    UNION
    SELECT x.event_id FROM outbox x WHERE x.status = 'failed'
    UNION
    SELECT c.event_id FROM event_seats c WHERE c.waiting_while_free
    UNION
    SELECT e.id FROM events e
    WHERE e.organisation_id = ANY($1::bigint[]) AND e.status = 'published' AND e.ends_at > now()
      AND e.starts_at > now() - interval '31 days' AND e.starts_at < now() + interval '24 hours'
)
SELECT a.id, a.slug, a.kind, a.title, a.languages, a.starts_at, a.ends_at, a.timezone, a.attention,
       count(*) OVER () AS total
FROM (SELECT e.id, e.slug, e.kind, e.title, e.languages, e.starts_at, e.ends_at, e.timezone,
             array_remove(ARRAY[
               CASE WHEN e.kind = 'webconference' AND coalesce(e.join_url, '') = '' THEN 'no_join_link' END,
               CASE WHEN e.kind = 'info_session' AND coalesce(e.venue, '') = '' AND NOT e.online
                    THEN 'no_venue' END,
               CASE WHEN (SELECT true FROM outbox x WHERE x.event_id = e.id AND x.status = 'failed' LIMIT 1)
                    THEN 'failed_mails' END,
               CASE WHEN (SELECT c.waiting_while_free FROM event_seats c WHERE c.event_id = e.id)
                    THEN 'waiting_while_free' END,
               CASE WHEN e.status = 'published' AND e.starts_at < now() + interval '24 hours'
                         AND (SELECT true FROM registrations r WHERE r.event_id = e.id AND r.status = 'pending' LIMIT 1)
                    THEN 'pending_soon' END
             ], NULL) AS attention
      FROM candidates k
      JOIN events e ON e.id = k.id
      WHERE e.organisation_id = ANY($1::bigint[]) AND e.status IN ('published', 'draft') AND e.ends_at > now()
        AND e.starts_at > now() - interval '31 days'
        AND ($3::timestamptz IS NULL OR (e.starts_at, e.id) > ($3, $4::bigint))) a
WHERE cardinality(a.attention) > 0
ORDER BY a.starts_at, a.id
LIMIT $2
"""

# the ids of every organisation (for an administrator)
ALL_ORGANISATION_IDS = "SELECT id FROM organisations"

# organisations by id, by name
ORGANISATIONS_BY_ID = "SELECT id, slug, name FROM organisations WHERE id = ANY($1::bigint[]) ORDER BY name"

# ---------------------------------------------------------------------------- people

# the people with a role in organisation $1, by name
PEOPLE_OF_ORGANISATION = """
SELECT o.id, o.email, o.name, o.is_admin, o.password_hash IS NOT NULL AS has_password, m.role,
       (SELECT coalesce(jsonb_object_agg(m2.organisation_id::text, m2.role), '{}') FROM memberships m2
        WHERE m2.organiser_id = o.id) AS roles
FROM memberships m JOIN organisers o ON o.id = m.organiser_id
WHERE m.organisation_id = $1
ORDER BY lower(coalesce(nullif(o.name, ''), o.email)), o.id
"""

# an organisation by slug
ORGANISATION_BY_SLUG = "SELECT id, slug, name FROM organisations WHERE slug = $1"

# ---------------------------------------------------------------------------- one event

# the people a change of event $1 is mailed to (every live registration, as events.service tells them),
# by language, most first
AUDIENCE_BY_LANGUAGE = """
SELECT language, count(*) AS people FROM registrations
WHERE event_id = $1 AND status IN ('pending', 'confirmed', 'waitlisted') AND email IS NOT NULL
GROUP BY language ORDER BY people DESC, language
"""

# an event's fill, from its seat counters (event_seats: seats_taken = pending + confirmed) and its pending holds
EVENT_FILL = """
SELECT c.seats_taken, c.waitlist_length, p.pending, c.seats_taken - p.pending AS confirmed
FROM event_seats c,
     LATERAL (SELECT count(*) AS pending FROM registrations r WHERE r.event_id = c.event_id AND r.status = 'pending') p
WHERE c.event_id = $1
"""

# the event and organisation of a registration, for the audit row of its check-in
REGISTRATION_EVENT = """
SELECT e.id AS event_id, e.organisation_id FROM registrations r JOIN events e ON e.id = r.event_id WHERE r.id = $1
"""

# a series' rule and dates left out, and the starts of its occurrences
SERIES_OF_EVENT = """
SELECT s.slug, s.rrule, s.exdates, array_agg(e.starts_at ORDER BY e.starts_at) AS starts
FROM series s JOIN events e ON e.series_id = s.id
WHERE s.id = $1
GROUP BY s.id
"""
