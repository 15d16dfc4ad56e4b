"""SQL of subsidy requests, as named constants."""

# an organisation by slug with its kind
ORGANISATION = "SELECT id, slug, name, kind FROM organisations WHERE slug = $1"

# an organisation by id with its kind
ORGANISATION_BY_ID = "SELECT id, slug, name, kind FROM organisations WHERE id = $1"

# the organisations among these ids ($1), by name, with their kinds
ORGANISATIONS_BY_IDS = "SELECT id, slug, name, kind FROM organisations WHERE id = ANY($1::bigint[]) ORDER BY name"

# sets an organisation's kind; returns its id (none for an unknown slug)
SET_ORGANISATION_KIND = "UPDATE organisations SET kind = $2 WHERE slug = $1 RETURNING id"

# whether an account reviews subsidy requests
IS_REVIEWER = "SELECT is_reviewer FROM organisers WHERE id = $1"

# makes an account a reviewer or not; returns its email (none for an unknown id)
SET_REVIEWER = "UPDATE organisers SET is_reviewer = $2 WHERE id = $1 RETURNING email"

_APPLICATION = """
SELECT a.*, o.slug AS organisation, o.name AS organisation_name, o.kind AS organisation_kind,
       t.code AS theme, t.year AS theme_year
FROM subsidy_applications a
JOIN organisations o ON o.id = a.organisation_id
LEFT JOIN subsidy_themes t ON t.id = a.theme_id
"""

# one application with its organisation and theme
APPLICATION = _APPLICATION + "WHERE a.id = $1"

# the same, locked for a change
APPLICATION_FOR_UPDATE = _APPLICATION + "WHERE a.id = $1 FOR UPDATE OF a"

# the applications a person sees: their organisations' ($1 ids; every one for an admin $2), and every
# submitted one for a reviewer ($3); newest first
APPLICATIONS_FOR = (
    _APPLICATION
    + """
WHERE ($2 OR a.organisation_id = ANY($1::bigint[]) OR ($3 AND a.status <> 'draft'))
  AND ($4::text IS NULL OR a.status = $4)
ORDER BY a.id DESC
LIMIT 500
"""
)

# a new draft; returns its id
INSERT_APPLICATION = """
INSERT INTO subsidy_applications (organisation_id, created_by, contact_email, language)
VALUES ($1, $2, $3, $4) RETURNING id
"""

# a draft's texts and dates as typed
UPDATE_DRAFT = """
UPDATE subsidy_applications
SET title = $2, summary = $3, description = $4, aims = $5, target_public = $6, theme_id = $7, starts_on = $8,
    ends_on = $9, planned_events = $10, deliverables = $11, language = $12, contact_email = $13, updated_at = now()
WHERE id = $1
"""

# moves an application to another status
SET_STATUS = "UPDATE subsidy_applications SET status = $2, updated_at = now() WHERE id = $1"

# a submission
SUBMIT = """
UPDATE subsidy_applications SET status = 'submitted', submitted_at = now(), updated_at = now() WHERE id = $1
"""

# the department's decision
DECIDE = """
UPDATE subsidy_applications
SET status = $2, amount_granted_cents = $3, decision_reason = $4, decided_at = now(), decided_by = $5,
    updated_at = now()
WHERE id = $1
"""

# closes the file
CLOSE = "UPDATE subsidy_applications SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = $1"

# a theme of a year by code
THEME = "SELECT id, code, year FROM subsidy_themes WHERE year = $1 AND code = $2"

# whether a theme is one of the department's priorities
THEME_PRIORITY = "SELECT priority FROM subsidy_themes WHERE id = $1"

# the themes of a year, priority ones first
THEMES_OF_YEAR = "SELECT id, code, title, priority FROM subsidy_themes WHERE year = $1 ORDER BY NOT priority, code"

# writes a theme of a year
UPSERT_THEME = """
INSERT INTO subsidy_themes (year, code, title, priority) VALUES ($1, $2, $3, $4)
ON CONFLICT (year, code) DO UPDATE SET title = excluded.title, priority = excluded.priority
"""

# removes the themes of a year not in $2 and named by no application
DELETE_UNLISTED_THEMES = """
DELETE FROM subsidy_themes t WHERE t.year = $1 AND NOT (t.code = ANY($2::text[]))
  AND NOT EXISTS (SELECT 1 FROM subsidy_applications a WHERE a.theme_id = t.id)
"""

# the lines of one phase of an application's budget, in order
BUDGET = """
SELECT kind, amount_cents, category, label FROM subsidy_budget_lines
WHERE application_id = $1 AND phase = $2 ORDER BY position
"""

DELETE_BUDGET = "DELETE FROM subsidy_budget_lines WHERE application_id = $1 AND phase = $2"

# writes lines: $2 phase, then arrays of kinds, amounts, categories, labels in order
INSERT_BUDGET = """
INSERT INTO subsidy_budget_lines (application_id, phase, position, kind, amount_cents, category, label)
SELECT $1, $2, n, kind, amount, category, label
FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[]) WITH ORDINALITY AS l(kind, amount, category, label, n)
"""

# the organisation's events among these slugs: (id, slug)
OWN_EVENTS = "SELECT id, slug FROM events WHERE organisation_id = $1 AND slug = ANY($2::text[])"

DELETE_EVENT_LINKS = "DELETE FROM subsidy_application_events WHERE application_id = $1"

LINK_EVENTS = """
INSERT INTO subsidy_application_events (application_id, event_id)
SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING
"""

# how many Zesummen events an application includes
LINKED_EVENT_COUNT = "SELECT count(*) FROM subsidy_application_events WHERE application_id = $1"

# an organisation's events (by its slug) a request may include, newest first
EVENTS_TO_LINK = """
SELECT e.slug, e.title, e.languages, e.starts_at, e.timezone
FROM events e JOIN organisations o ON o.id = e.organisation_id
WHERE o.slug = $1 AND e.status <> 'cancelled' ORDER BY e.starts_at DESC LIMIT 100
"""

# the linked events with how many were marked present
LINKED_EVENTS = """
SELECT e.slug, e.status, e.starts_at,
       (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.attendance = 'present') AS attendance
FROM subsidy_application_events l JOIN events e ON e.id = l.event_id
WHERE l.application_id = $1 ORDER BY e.starts_at, e.id
"""

# the documents of an application (without their bytes)
DOCUMENTS = """
SELECT id, kind, filename, media_type, size_bytes, created_at FROM subsidy_documents
WHERE application_id = $1 ORDER BY id
"""

# one document of an application, without its bytes
DOCUMENT = """
SELECT id, kind, filename, media_type, size_bytes FROM subsidy_documents WHERE application_id = $1 AND id = $2
"""

# how many documents an application holds
DOCUMENT_COUNT = "SELECT count(*) FROM subsidy_documents WHERE application_id = $1"

# when a document was added
DOCUMENT_CREATED_AT = "SELECT created_at FROM subsidy_documents WHERE id = $1"

# the bytes of a document
DOCUMENT_CONTENT = "SELECT content FROM subsidy_document_contents WHERE document_id = $1"

# a new document's description; returns its id
INSERT_DOCUMENT = """
INSERT INTO subsidy_documents (application_id, kind, filename, media_type, size_bytes, sha256, uploaded_by)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
"""

INSERT_DOCUMENT_CONTENT = "INSERT INTO subsidy_document_contents (document_id, content) VALUES ($1, $2)"

# removes a document of an application; returns its id
DELETE_DOCUMENT = "DELETE FROM subsidy_documents WHERE application_id = $1 AND id = $2 RETURNING id"

# the thread, oldest first
MESSAGES = "SELECT id, author, body, created_at FROM subsidy_messages WHERE application_id = $1 ORDER BY id"

# a message of the thread; returns its id
INSERT_MESSAGE = """
INSERT INTO subsidy_messages (application_id, author, organiser_id, body) VALUES ($1, $2, $3, $4) RETURNING id
"""

# a message's text
MESSAGE_BODY = "SELECT body FROM subsidy_messages WHERE id = $1 AND application_id = $2"

# the report of an application
REPORT = "SELECT * FROM subsidy_reports WHERE application_id = $1"

# files (or files again) the report
UPSERT_REPORT = """
INSERT INTO subsidy_reports (application_id, what_happened, attendance, deliverables, filed_by)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (application_id) DO UPDATE SET what_happened = excluded.what_happened,
    attendance = excluded.attendance, deliverables = excluded.deliverables, filed_by = excluded.filed_by,
    filed_at = now()
"""

# drafts whose deadline ($1, today in Luxembourg, plus 42 days) is at most two weeks away ($2) and not past
DRAFTS_NEAR_DEADLINE = """
SELECT id, starts_on FROM subsidy_applications
WHERE status = 'draft' AND starts_on >= $1 AND starts_on <= $2
ORDER BY id
"""

# granted subsidies of projects starting in a year, by theme and association
GRANTED_IN_YEAR = """
SELECT coalesce(t.code, '') AS theme, t.title AS theme_title, coalesce(t.priority, false) AS priority,
       o.name AS association, o.kind AS association_kind, a.id, a.title, a.language, a.starts_on,
       a.amount_granted_cents, a.decided_at
FROM subsidy_applications a
JOIN organisations o ON o.id = a.organisation_id
LEFT JOIN subsidy_themes t ON t.id = a.theme_id
WHERE a.amount_granted_cents IS NOT NULL AND a.status IN ('eligible', 'closed')
  AND a.starts_on >= make_date($1, 1, 1) AND a.starts_on < make_date($1 + 1, 1, 1)
ORDER BY NOT coalesce(t.priority, false), coalesce(t.code, ''), o.name, a.starts_on, a.id
"""

# every organisation and its kind, for the administrators' page
ORGANISATIONS_AND_KINDS = "SELECT slug, name, kind FROM organisations ORDER BY lower(name), slug"

# the department's reviewers
REVIEWERS = "SELECT id, email, name FROM organisers WHERE is_reviewer ORDER BY lower(name), email"

# an account by its email (stored lower-case)
ORGANISER_BY_EMAIL = "SELECT id FROM organisers WHERE email = lower($1)"
