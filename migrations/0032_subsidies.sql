-- Subsidy requests (issue 26): associations ask the Department of Integration to fund a project
-- filed at least six weeks before it starts; the department's reviewers judge eligibility.
--
-- Only non-profit associations (asbl) and federations may apply, so organisations get a kind, set
-- by administrators. Reviewers work across organisations, like administrators, so the role is a
-- flag on the account rather than a membership. A draft keeps whatever was typed: the rules
-- (balance, dates, documents) are checked on submission, while the columns only refuse what can
-- never be right (a negative amount, an unknown status). Documents' bytes live in a table of their
-- own, read only when someone downloads them.

ALTER TABLE organisations ADD COLUMN kind text NOT NULL DEFAULT 'other'
    CHECK (kind IN ('asbl', 'federation', 'foundation', 'public_body', 'company', 'other'));
ALTER TABLE organisers ADD COLUMN is_reviewer boolean NOT NULL DEFAULT false;

-- the themes an application may name, per year; `priority` marks the department's themes of the year
CREATE TABLE subsidy_themes (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    year      integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
    code      text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    title     jsonb NOT NULL,
    priority  boolean NOT NULL DEFAULT false,
    UNIQUE (year, code)
);

CREATE TABLE subsidy_applications (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id       bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    created_by            bigint REFERENCES organisers ON DELETE SET NULL,
    -- where the department's mails go, and in which language
    contact_email         text NOT NULL CHECK (contact_email = lower(contact_email) AND length(contact_email) <= 254),
    language              text NOT NULL CHECK (language IN ('fr', 'de', 'lb', 'en', 'pt')),
    status                text NOT NULL DEFAULT 'draft' CHECK (status IN (
                              'draft', 'submitted', 'awaiting_applicant', 'eligible', 'not_eligible', 'closed')),
    title                 jsonb NOT NULL DEFAULT '{}',
    summary               jsonb NOT NULL DEFAULT '{}',
    description           jsonb NOT NULL DEFAULT '{}',
    aims                  text NOT NULL DEFAULT '',
    target_public         text NOT NULL DEFAULT '',
    theme_id              bigint REFERENCES subsidy_themes ON DELETE SET NULL,
    starts_on             date,
    ends_on               date,
    deliverables          text NOT NULL DEFAULT '',
    -- events of the project not (yet) in Zesummen, as the association describes them
    planned_events        text NOT NULL DEFAULT '',
    submitted_at          timestamptz,
    amount_granted_cents  bigint CHECK (amount_granted_cents >= 0),
    decision_reason       text,
    decided_at            timestamptz,
    decided_by            bigint REFERENCES organisers ON DELETE SET NULL,
    closed_at             timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'eligible' OR amount_granted_cents IS NOT NULL),
    CHECK (status <> 'not_eligible' OR decision_reason IS NOT NULL),
    CHECK (status = 'draft' OR submitted_at IS NOT NULL)
);
CREATE INDEX subsidy_applications_organisation_idx ON subsidy_applications (organisation_id, id DESC);
CREATE INDEX subsidy_applications_review_idx ON subsidy_applications (status, id DESC) WHERE status <> 'draft';
-- the reminder job looks for drafts whose deadline comes near
CREATE INDEX subsidy_applications_draft_start_idx ON subsidy_applications (starts_on) WHERE status = 'draft';

-- the provisional budget (and, after the project, the actual one) as lines
CREATE TABLE subsidy_budget_lines (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL REFERENCES subsidy_applications ON DELETE CASCADE,
    phase           text NOT NULL DEFAULT 'provisional' CHECK (phase IN ('provisional', 'actual')),
    position        integer NOT NULL,
    kind            text NOT NULL CHECK (kind IN ('expense', 'income', 'own', 'requested')),
    category        text NOT NULL DEFAULT '',
    label           text NOT NULL DEFAULT '',
    -- up to ten million euros a line: a typo of extra digits is refused, not summed
    amount_cents    bigint NOT NULL CHECK (amount_cents BETWEEN 0 AND 1000000000),
    UNIQUE (application_id, phase, position)
);

-- Zesummen events the project includes (of the applicant's own organisation)
CREATE TABLE subsidy_application_events (
    application_id  bigint NOT NULL REFERENCES subsidy_applications ON DELETE CASCADE,
    event_id        bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    PRIMARY KEY (application_id, event_id)
);
CREATE INDEX subsidy_application_events_event_idx ON subsidy_application_events (event_id);

-- supporting documents: what they are here, their bytes in subsidy_document_contents
CREATE TABLE subsidy_documents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL REFERENCES subsidy_applications ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('statutes', 'accounts', 'quote', 'other')),
    filename        text NOT NULL CHECK (length(filename) BETWEEN 1 AND 200),
    media_type      text NOT NULL CHECK (media_type IN ('application/pdf', 'image/png', 'image/jpeg')),
    size_bytes      integer NOT NULL CHECK (size_bytes BETWEEN 1 AND 10485760),
    sha256          bytea NOT NULL,
    uploaded_by     bigint REFERENCES organisers ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subsidy_documents_application_idx ON subsidy_documents (application_id, id);

CREATE TABLE subsidy_document_contents (
    document_id  bigint PRIMARY KEY REFERENCES subsidy_documents ON DELETE CASCADE,
    content      bytea NOT NULL
);
-- PDF, PNG and JPEG are compressed already: TOAST stores them out of line without trying again
ALTER TABLE subsidy_document_contents ALTER COLUMN content SET STORAGE EXTERNAL;

-- the thread between the department's reviewers and the association
CREATE TABLE subsidy_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    application_id  bigint NOT NULL REFERENCES subsidy_applications ON DELETE CASCADE,
    author          text NOT NULL CHECK (author IN ('reviewer', 'applicant')),
    organiser_id    bigint REFERENCES organisers ON DELETE SET NULL,
    body            text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subsidy_messages_application_idx ON subsidy_messages (application_id, id);

-- what happened, filed by the association after the project
CREATE TABLE subsidy_reports (
    application_id  bigint PRIMARY KEY REFERENCES subsidy_applications ON DELETE CASCADE,
    what_happened   text NOT NULL CHECK (length(what_happened) BETWEEN 1 AND 10000),
    attendance      integer CHECK (attendance BETWEEN 0 AND 1000000),
    deliverables    text NOT NULL DEFAULT '',
    filed_by        bigint REFERENCES organisers ON DELETE SET NULL,
    filed_at        timestamptz NOT NULL DEFAULT now()
);
