"""SQL of the interpretation service."""

# the organisation of a slug: id
ORGANISATION_ID = "SELECT id FROM organisations WHERE slug = $1"

# every commune: name
ALL_COMMUNES = "SELECT name FROM communes"

# which of these names are communes: name
KNOWN_COMMUNES = "SELECT name FROM communes WHERE name = ANY($1::text[])"

# which of these names are cantons: canton
KNOWN_CANTONS = "SELECT DISTINCT canton FROM communes WHERE canton = ANY($1::text[])"

# a new interpreter: id
INSERT_INTERPRETER = """
INSERT INTO interpreters (organisation_id, name, email, phone, language, communes, cantons, monthly_cap,
                          token_nonce, token_hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (organisation_id, email) DO NOTHING
RETURNING id
"""

# an interpreter's languages, replaced as a whole
INSERT_LANGUAGES = """
INSERT INTO interpreter_languages (interpreter_id, code, level)
SELECT $1, code, level FROM unnest($2::text[], $3::text[]) AS t (code, level)
"""

# an interpreter's weekly slots
INSERT_AVAILABILITY = """
INSERT INTO interpreter_availability (interpreter_id, weekday, starts, ends)
SELECT $1, weekday, starts, ends FROM unnest($2::smallint[], $3::time[], $4::time[]) AS t (weekday, starts, ends)
"""

# an interpreter's days off
INSERT_ABSENCES = """
INSERT INTO interpreter_absences (interpreter_id, days)
SELECT $1, daterange(first_day, last_day, '[]') FROM unnest($2::date[], $3::date[]) AS t (first_day, last_day)
"""

# interpreters of some organisations (every one's for an administrator), with their languages and time
INTERPRETERS = """
SELECT i.id, o.slug AS organisation, i.name, i.email, i.phone, i.communes, i.cantons, i.monthly_cap, i.language,
       i.active,
       coalesce((SELECT jsonb_agg(jsonb_build_object('code', l.code, 'level', l.level) ORDER BY l.code)
                 FROM interpreter_languages l WHERE l.interpreter_id = i.id), '[]') AS languages,
       coalesce((SELECT jsonb_agg(jsonb_build_object('weekday', a.weekday, 'starts', a.starts, 'ends', a.ends)
                                  ORDER BY a.weekday, a.starts)
                 FROM interpreter_availability a WHERE a.interpreter_id = i.id), '[]') AS availability,
       coalesce((SELECT jsonb_agg(jsonb_build_object('first_day', lower(x.days), 'last_day', upper(x.days) - 1)
                                  ORDER BY lower(x.days))
                 FROM interpreter_absences x WHERE x.interpreter_id = i.id), '[]') AS absences
FROM interpreters i JOIN organisations o ON o.id = i.organisation_id
WHERE ($1 OR i.organisation_id = ANY($2::bigint[])) AND ($3::bigint IS NULL OR i.id = $3)
ORDER BY i.name, i.id
"""

# an interpreter of an organisation and the levels at which they speak two languages: id, from_level, to_level
INTERPRETER_LEVELS = """
SELECT i.id,
       (SELECT level FROM interpreter_languages WHERE interpreter_id = i.id AND code = $3) AS from_level,
       (SELECT level FROM interpreter_languages WHERE interpreter_id = i.id AND code = $4) AS to_level
FROM interpreters i WHERE i.id = $1 AND i.organisation_id = $2
"""

# a mission as a mail queued now must remember it: starts_at, ends_at, sequence, interpreter_id, requester_email
MISSION_FOR_MAIL = """
SELECT starts_at, ends_at, sequence, interpreter_id, requester_email FROM interpretation_missions WHERE id = $1
"""

# an interpreter as their mails need them: name, email, phone, language, token_nonce
INTERPRETER_FOR_MAIL = "SELECT name, email, phone, language, token_nonce FROM interpreters WHERE id = $1"

# the mission of a requester's status link: the row
MISSION_BY_STATUS = "SELECT * FROM interpretation_missions WHERE status_hash = $1"

# the interpreter of a private link: id, organisation_id, name, language
INTERPRETER_BY_TOKEN = "SELECT id, organisation_id, name, language FROM interpreters WHERE token_hash = $1"

# a new mission (for an event's registrants when $21 is set): id
INSERT_MISSION = """
INSERT INTO interpretation_missions (
    organisation_id, starts_at, ends_at, mode, commune, address, from_language, to_language, field,
    requester_organisation, requester_contact, requester_email, requester_phone, requester_type, requester_language,
    beneficiary_initials, urgency, notes, status_nonce, status_hash, event_id)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
RETURNING id
"""

# a mission with its organisation's slug
MISSION = """
SELECT m.*, o.slug AS organisation, (SELECT d.slug FROM organisation_domains d WHERE d.id = m.domain_id) AS domain
FROM interpretation_missions m JOIN organisations o ON o.id = m.organisation_id
WHERE m.id = $1
"""

# a mission, locked for a change: the row
MISSION_FOR_UPDATE = "SELECT * FROM interpretation_missions WHERE id = $1 FOR UPDATE"

# a mission changed: its time, place, notes, status and interpreter (the trigger sets `travel`)
UPDATE_MISSION = """
UPDATE interpretation_missions
SET starts_at = $2, ends_at = $3, mode = $4, commune = $5, address = $6, notes = $7, urgency = $8, status = $9,
    interpreter_id = $10, sequence = sequence + $11::int, updated_at = now()
WHERE id = $1
"""

# missions offered: open ones become `offered`
MARK_OFFERED = """
UPDATE interpretation_missions SET status = 'offered', unanswered_at = NULL, updated_at = now()
WHERE id = $1 AND status IN ('requested', 'offered')
"""

# offers of a mission to interpreters of its organisation (again for one already offered): the offers
INSERT_OFFERS = """
INSERT INTO interpretation_offers (mission_id, interpreter_id, answer_by)
SELECT $1, i.id, $4 FROM interpreters i WHERE i.id = ANY($2::bigint[]) AND i.organisation_id = $3 AND i.active
ON CONFLICT (mission_id, interpreter_id) DO UPDATE SET status = 'offered', answered_at = NULL,
    answer_by = excluded.answer_by
    WHERE interpretation_offers.status IN ('declined', 'expired')
RETURNING id, mission_id AS mission, interpreter_id AS interpreter, status, answer_by
"""

# an interpreter's offer: mission_id
OFFER_MISSION = "SELECT mission_id FROM interpretation_offers WHERE id = $1 AND interpreter_id = $2"

# an interpreter's offer, locked: id, mission_id, status, answer_by
OFFER_FOR_UPDATE = """
SELECT id, mission_id, status, answer_by FROM interpretation_offers WHERE id = $1 AND interpreter_id = $2 FOR UPDATE
"""

# an offer answered
ANSWER_OFFER = "UPDATE interpretation_offers SET status = $2, answered_at = now() WHERE id = $1"

# the other open offers of a mission, now taken: their interpreter ids
TAKE_OTHER_OFFERS = """
UPDATE interpretation_offers SET status = 'taken', answered_at = now()
WHERE mission_id = $1 AND id <> $2 AND status = 'offered'
RETURNING interpreter_id
"""

# an interpreter's own mission recorded as done with the minutes spent: id
RECORD_MINUTES = """
UPDATE interpretation_missions SET minutes_spent = $3, status = 'done', updated_at = now()
WHERE id = $1 AND interpreter_id = $2 AND status IN ('assigned', 'done') AND starts_at <= now()
RETURNING id
"""

# one of an interpreter's missions: id, status, starts_at
INTERPRETER_MISSION = "SELECT id, status, starts_at FROM interpretation_missions WHERE id = $1 AND interpreter_id = $2"

# ranked candidates for a mission, from its own values as the service read them ($1 organisation, $2 id,
# $3 starts_at, $4 ends_at, $5 mode, $6 commune, $7 from_language, $8 to_language, $9 the fitting levels),
# a page of $13 after the cursor ($10 missions, $11 score, $12 id; NULLs for the first page): speak both
# languages at a fitting level, cover the place, are available then (weekly slot, no day off), are not busy
# (no held mission overlapping, nor an on-site one in another commune within the 30-minute travel margin) and
# are under their monthly cap; fewest missions this month first, then the best levels, then the id: id, name,
# from_level, to_level, missions_this_month, monthly_cap, score.
# The mission's values come as parameters: the service has read its row already (to check the right to it),
# and the levels a field needs are service.FITTING, the same the check of an assignment uses. The month's
# load is read from interpreter_months and the levels from the interpreter's own `speaks` ({code: level}),
# both kept by triggers (0041); the day's absentees and the commune's canton are read once (InitPlans). Every
# interpreter who fits must be ranked before the first is known (124 of 500 in the big pool), so that ranking
# carries only what it sorts (`fit`: the id, the load, the cap, the score); the name joins the page's rows
# only, and the probes of hours and missions run in rank order until the page is full. The probes are scalar
# subqueries so that PostgreSQL keeps them per candidate rather than joining whole tables. A held mission
# lasts at most 12 hours, so one that overlaps or leaves no time to travel starts between 12 h 30 before the
# mission and 30 minutes after its end: the busy check reads only that slice
# (interpretation_missions_held_by_interpreter_idx). A mission over midnight fits no weekly slot: none.
CANDIDATES = """
WITH fit AS (
    SELECT i.id, coalesce(n.missions, 0) AS missions, i.monthly_cap,
           array_position($9::text[], i.speaks->>$7::text) + array_position($9::text[], i.speaks->>$8::text) AS score
    FROM interpreters i
    LEFT JOIN interpreter_months n
           ON n.interpreter_id = i.id AND n.month = (SELECT interpretation_mission_month($3::timestamptz))
    WHERE i.organisation_id = $1::bigint AND i.active
      AND i.speaks->>$7 = ANY($9::text[]) AND i.speaks->>$8 = ANY($9::text[])
      AND ($5::text <> 'on_site' OR $6::text = ANY(i.communes)
           OR (SELECT c.canton FROM communes c WHERE c.name = $6::text) = ANY(i.cantons))
      AND i.id <> ALL(ARRAY(SELECT x.interpreter_id FROM interpreter_absences x
                            WHERE x.days @> ($3::timestamptz AT TIME ZONE 'Europe/Luxembourg')::date))
      AND ($3::timestamptz AT TIME ZONE 'Europe/Luxembourg')::date
          = ($4::timestamptz AT TIME ZONE 'Europe/Luxembourg')::date
    ORDER BY missions, score DESC, i.id
)
SELECT r.id, i.name, i.speaks->>$7 AS from_level, i.speaks->>$8 AS to_level,
       r.missions AS missions_this_month, r.monthly_cap, r.score
FROM fit r JOIN interpreters i ON i.id = r.id
WHERE r.missions < r.monthly_cap
  AND ($10::int IS NULL OR (r.missions, -r.score, r.id) > ($10::int, -$11::int, $12::bigint))
  AND (SELECT EXISTS (
      SELECT 1 FROM interpreter_availability a
      WHERE a.interpreter_id = r.id
        AND a.weekday = extract(isodow FROM $3::timestamptz AT TIME ZONE 'Europe/Luxembourg')::smallint
        AND a.starts <= ($3::timestamptz AT TIME ZONE 'Europe/Luxembourg')::time
        AND ($4::timestamptz AT TIME ZONE 'Europe/Luxembourg')::time <= a.ends))
  AND NOT (SELECT EXISTS (
      SELECT 1 FROM interpretation_missions o
      WHERE o.interpreter_id = r.id AND o.status IN ('assigned', 'done') AND o.id <> $2::bigint
        AND o.starts_at > $3::timestamptz - interval '12 hours 30 minutes'
        AND o.starts_at < $4::timestamptz + interval '30 minutes'
        AND (tstzrange(o.starts_at, o.ends_at) && tstzrange($3::timestamptz, $4::timestamptz)
             OR ($5::text = 'on_site' AND o.travel IS NOT NULL AND o.commune <> $6::text
                 AND o.travel && tstzrange($3::timestamptz - interval '15 minutes',
                                           $4::timestamptz + interval '15 minutes')))))
ORDER BY r.missions, r.score DESC, r.id
LIMIT $13
"""

# an interpreter's open offers, before their deadline, of missions still open, soonest first
OPEN_OFFERS = """
SELECT f.id, m.starts_at, m.ends_at, m.mode, m.commune, m.address, m.from_language, m.to_language, f.answer_by
FROM interpretation_offers f JOIN interpretation_missions m ON m.id = f.mission_id
WHERE f.interpreter_id = $1 AND f.status = 'offered' AND m.status IN ('requested', 'offered') AND m.ends_at > now()
  AND f.answer_by > now()
ORDER BY m.starts_at, f.id
"""

# an interpreter's held missions from a month ago on, soonest first (the page and the calendar feed)
HELD_MISSIONS = """
SELECT m.id, m.starts_at, m.ends_at, m.mode, m.commune, m.address, m.from_language, m.to_language, m.sequence,
       m.requester_organisation, m.requester_contact, m.requester_phone
FROM interpretation_missions m
WHERE m.interpreter_id = $1 AND m.status IN ('assigned', 'done') AND m.ends_at > now() - interval '31 days'
ORDER BY m.starts_at, m.id
"""

# missions ended longer ago than $1 whose personal data is still there: wiped (ids)
ANONYMISE_MISSIONS = """
UPDATE interpretation_missions
SET requester_contact = '-', requester_email = '', requester_phone = '', beneficiary_initials = '', notes = '',
    address = '', status_nonce = NULL, status_hash = NULL, anonymised_at = now()
WHERE id IN (SELECT id FROM interpretation_missions WHERE anonymised_at IS NULL AND ends_at < now() - $1::interval
             ORDER BY ends_at LIMIT $2 FOR UPDATE SKIP LOCKED)
RETURNING id
"""

# the queued mail of anonymised missions is not sent: they name people no longer known
FORGET_MISSION_MAIL = """
UPDATE outbox SET status = 'skipped', last_error = 'anonymised after the mission', recipient = NULL
WHERE status IN ('queued', 'retrying') AND kind LIKE 'interpretation\\_%'
  AND (payload->>'mission')::bigint = ANY($1::bigint[])
"""

# open offers past their deadline, of missions still open, now expired: their missions (once each)
EXPIRE_OFFERS = """
UPDATE interpretation_offers f SET status = 'expired', answered_at = now()
WHERE f.id IN (SELECT id FROM interpretation_offers WHERE status = 'offered' AND answer_by <= now()
               ORDER BY answer_by LIMIT $1 FOR UPDATE SKIP LOCKED)
RETURNING f.mission_id
"""

# offered missions with no offer left open, not yet flagged: flagged now (the row lock makes it once):
# id, organisation_id, unanswered_at, starts_at, ends_at, sequence
FLAG_UNANSWERED = """
UPDATE interpretation_missions m SET unanswered_at = now()
WHERE m.status = 'offered' AND m.unanswered_at IS NULL AND m.anonymised_at IS NULL AND m.ends_at > now()
  AND NOT EXISTS (SELECT 1 FROM interpretation_offers f
                  WHERE f.mission_id = m.id AND f.status IN ('offered', 'accepted'))
RETURNING m.id, m.organisation_id, m.unanswered_at, m.starts_at, m.ends_at, m.sequence
"""

# the staff of an organisation, in their account's language: id, email, name, language
STAFF_OF = """
SELECT o.id, o.email, o.name, coalesce(o.language, 'fr') AS language
FROM memberships m JOIN organisers o ON o.id = m.organiser_id
WHERE m.organisation_id = $1 AND m.role IN ('admin', 'organiser') ORDER BY o.id
"""

# a staff member as their mail needs them: name, email, language
ORGANISER_FOR_MAIL = "SELECT name, email, coalesce(language, 'fr') AS language FROM organisers WHERE id = $1"

# an interpreter, locked for a change by staff: the row
INTERPRETER_FOR_UPDATE = "SELECT * FROM interpreters WHERE id = $1 FOR UPDATE"

# an interpreter's details changed by staff
UPDATE_INTERPRETER = """
UPDATE interpreters SET name = $2, email = $3, phone = $4, language = $5, communes = $6, cantons = $7,
                        monthly_cap = $8, active = $9
WHERE id = $1
"""

# an interpreter's languages, weekly slots or days off, before they are replaced as a whole
DELETE_LANGUAGES = "DELETE FROM interpreter_languages WHERE interpreter_id = $1"
DELETE_AVAILABILITY = "DELETE FROM interpreter_availability WHERE interpreter_id = $1"
DELETE_ABSENCES = "DELETE FROM interpreter_absences WHERE interpreter_id = $1"

# held missions of an organisation starting between two local days (both included), counted by month,
# language pair (the two codes in order, so that ti-fr and fr-ti are one pair), field and requester
# type: month, languages, field, requester_type, missions, recorded (with hours), minutes
SUMMARY = """
SELECT to_char(m.starts_at AT TIME ZONE 'Europe/Luxembourg', 'YYYY-MM') AS month,
       least(m.from_language, m.to_language) || '-' || greatest(m.from_language, m.to_language) AS languages,
       m.field, m.requester_type, count(*)::int AS missions, count(m.minutes_spent)::int AS recorded,
       coalesce(sum(m.minutes_spent), 0)::int AS minutes
FROM interpretation_missions m
WHERE m.organisation_id = $1 AND m.status IN ('assigned', 'done')
  AND m.starts_at >= $2::date::timestamp AT TIME ZONE 'Europe/Luxembourg'
  AND m.starts_at < ($3::date + 1)::timestamp AT TIME ZONE 'Europe/Luxembourg'
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""

# the live missions asked for an event's registrants: id, to_language, status
EVENT_MISSIONS = """
SELECT id, to_language, status FROM interpretation_missions
WHERE event_id = $1 AND status <> 'cancelled'
ORDER BY id
"""

# missions of some organisations (every one's for an administrator) ending from $4 on, in one status or
# any ($3), soonest first: the back-office's list
MISSIONS_LIST = """
SELECT m.id, m.starts_at, m.ends_at, m.mode, m.commune, m.from_language, m.to_language, m.field, m.status,
       m.requester_organisation, m.unanswered_at, i.name AS interpreter
FROM interpretation_missions m LEFT JOIN interpreters i ON i.id = m.interpreter_id
WHERE ($1 OR m.organisation_id = ANY($2::bigint[])) AND ($3::text IS NULL OR m.status = $3) AND m.ends_at >= $4
ORDER BY m.starts_at, m.id
LIMIT $5
"""

# a mission's offers with their interpreters' names, latest first
MISSION_OFFERS = """
SELECT f.id, f.status, f.answer_by, f.answered_at, f.created_at, i.id AS interpreter_id, i.name
FROM interpretation_offers f JOIN interpreters i ON i.id = f.interpreter_id
WHERE f.mission_id = $1
ORDER BY f.created_at DESC, f.id
"""

# the event a mission was asked for, if any: slug, title, languages
MISSION_EVENT = """
SELECT e.slug, e.title, e.languages FROM interpretation_missions m JOIN events e ON e.id = m.event_id WHERE m.id = $1
"""
