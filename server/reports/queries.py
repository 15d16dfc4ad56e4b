"""SQL of the reports and of the organisations' convention domains."""

# the organisation by slug
ORGANISATION = "SELECT id, slug, name FROM organisations WHERE slug = $1"

# the convention domains of organisation $1, in their order
DOMAINS = "SELECT id, slug, name, position FROM organisation_domains WHERE organisation_id = $1 ORDER BY position, name"

# a new domain; nothing when the slug is taken
INSERT_DOMAIN = """
INSERT INTO organisation_domains (organisation_id, slug, name, position) VALUES ($1, $2, $3, $4)
ON CONFLICT (organisation_id, slug) DO NOTHING
RETURNING slug, name, position
"""

# renames or moves domain $2 of organisation $1 (null keeps a value)
UPDATE_DOMAIN = """
UPDATE organisation_domains SET name = coalesce($3, name), position = coalesce($4, position)
WHERE organisation_id = $1 AND slug = $2
RETURNING slug, name, position
"""

# removes domain $2 of organisation $1 when nothing is tagged with it; its slug, or nothing
DELETE_DOMAIN = """
DELETE FROM organisation_domains d WHERE d.organisation_id = $1 AND d.slug = $2
  AND NOT EXISTS (SELECT 1 FROM events WHERE domain_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM commune_requests WHERE domain_id = d.id)
  AND NOT EXISTS (SELECT 1 FROM interpretation_missions WHERE domain_id = d.id)
RETURNING slug
"""


# Every report query reads one organisation ($1) and one period [$2, $3); events and missions belong
# to the period they start in, commune requests to the one they were received in.

# events not drafts, by domain, kind and commune: held (published) and cancelled, sessions of series
EVENT_FIGURES = """
SELECT domain_id, kind, commune,
       count(*) FILTER (WHERE status = 'published') AS held,
       count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE status = 'published' AND series_id IS NOT NULL) AS series_sessions,
       array_agg(DISTINCT series_id) FILTER (WHERE status = 'published' AND series_id IS NOT NULL) AS series
FROM events
WHERE organisation_id = $1 AND starts_at >= $2 AND starts_at < $3 AND status <> 'draft'
GROUP BY domain_id, kind, commune
"""

# The registrations of the events held: each event's through the index on (event_id, ...), the
# subquery kept apart by OFFSET 0 so that the planner does not turn it into a hash join over the
# whole table (a year of one organisation is 1 % of the big database's registrations: a sequential
# scan took 200 ms where the index takes 10).
_HELD_REGISTRATIONS = """
FROM events e
CROSS JOIN LATERAL (SELECT * FROM registrations r WHERE r.event_id = e.id OFFSET 0) r
WHERE e.organisation_id = $1 AND e.starts_at >= $2 AND e.starts_at < $3 AND e.status = 'published'
"""

# registrations of the events held, by domain, kind and language: confirmed ones and their
# attendance, cancelled ones, waiting-list places that never became a seat, web conference joins
REGISTRATION_FIGURES = f"""
SELECT e.domain_id, e.kind, r.language,
       count(*) FILTER (WHERE r.status = 'confirmed') AS confirmed,
       count(*) FILTER (WHERE r.status = 'cancelled') AS cancelled,
       count(*) FILTER (WHERE r.status = 'confirmed' AND r.attendance = 'present') AS present,
       count(*) FILTER (WHERE r.status = 'confirmed' AND r.attendance = 'absent') AS absent,
       count(*) FILTER (WHERE r.status = 'confirmed' AND r.attendance = 'excused') AS excused,
       count(*) FILTER (WHERE r.waitlisted_at IS NOT NULL AND r.confirmed_at IS NULL) AS never_seated,
       count(*) FILTER (WHERE r.status = 'confirmed'
                          AND EXISTS (SELECT 1 FROM registration_joins j WHERE j.registration_id = r.id)) AS joins
{_HELD_REGISTRATIONS}
GROUP BY e.domain_id, e.kind, r.language
"""

# distinct people with a confirmed registration at an event held: by domain, by domain and language,
# by domain and commune, and the same across domains (grouping() tells which set a row is);
# a registration without an address (added by hand) is a person of its own
PEOPLE_FIGURES = f"""
SELECT e.domain_id, r.language, r.commune, grouping(e.domain_id, r.language, r.commune) AS grouping_set,
       count(DISTINCT coalesce(r.person_key, -r.id)) AS people
{_HELD_REGISTRATIONS}
  AND r.status = 'confirmed'
GROUP BY GROUPING SETS ((e.domain_id), (e.domain_id, r.language), (e.domain_id, r.commune),
                        (), (r.language), (r.commune))
"""

# registrations of the events held by how long before the start they came: bucket 0 is the last
# day (or later, added by hand), then 1, 2-3, 4-7, 8-14, 15-30 days and more than 30
REGISTRATION_LEAD = f"""
SELECT e.domain_id,
       width_bucket(extract(epoch FROM e.starts_at - r.created_at) / 86400, ARRAY[1, 2, 4, 8, 15, 31]::float8[])
           AS bucket,
       count(*) AS registrations
{_HELD_REGISTRATIONS}
GROUP BY 1, 2
"""

# interpretation missions by domain, language, month (in Luxembourg) and status, with minutes spent;
# the language is the one other than fr, de or lb when the pair has one (the person's language)
MISSION_FIGURES = """
SELECT domain_id,
       CASE WHEN to_language IN ('fr', 'de', 'lb') AND from_language NOT IN ('fr', 'de', 'lb')
            THEN from_language ELSE to_language END AS language,
       date_trunc('month', starts_at AT TIME ZONE 'Europe/Luxembourg')::date AS month,
       status, count(*) AS missions, coalesce(sum(minutes_spent), 0) AS minutes
FROM interpretation_missions
WHERE organisation_id = $1 AND starts_at >= $2 AND starts_at < $3
GROUP BY 1, 2, 3, 4
"""

# commune requests received, by domain and status
COMMUNE_REQUEST_FIGURES = """
SELECT domain_id, status, count(*) AS requests
FROM commune_requests
WHERE organisation_id = $1 AND created_at >= $2 AND created_at < $3
GROUP BY 1, 2
"""

# the instant a report counts up to: the transaction's start
NOW = "SELECT now()"

# the number raised by every change a report of organisation $1 counts (migration 0031)
REPORT_VERSION = "SELECT coalesce((SELECT version FROM report_versions WHERE organisation_id = $1), 0)"

# the kept report of organisation $1 for the days $2-$3 while it still holds: computed at the current
# number, and no event of the organisation started since within [$4, $5) or the year before [$6, $7)
KEPT_REPORT = """
SELECT c.body FROM report_cache c
WHERE c.organisation_id = $1 AND c.first_day = $2 AND c.last_day = $3
  AND c.version = coalesce((SELECT version FROM report_versions WHERE organisation_id = $1), 0)
  AND NOT EXISTS (
      SELECT 1 FROM events e
      WHERE e.organisation_id = $1 AND e.starts_at > c.as_of AND e.starts_at <= now() AND e.status <> 'draft'
        AND ((e.starts_at >= $4 AND e.starts_at < $5) OR (e.starts_at >= $6 AND e.starts_at < $7)))
"""

# keeps a computed report (organisation, days, number, as of, body)
KEEP_REPORT = """
INSERT INTO report_cache (organisation_id, first_day, last_day, version, as_of, body) VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (organisation_id, first_day, last_day)
DO UPDATE SET version = EXCLUDED.version, as_of = EXCLUDED.as_of, body = EXCLUDED.body, computed_at = now()
-- (of two computed at once, the one that read the older number does not replace the other)
WHERE report_cache.version <= EXCLUDED.version
"""

# forgets reports nobody computed again for a month (any dates can be asked for)
FORGET_OLD_REPORTS = "DELETE FROM report_cache WHERE computed_at < now() - interval '30 days'"
