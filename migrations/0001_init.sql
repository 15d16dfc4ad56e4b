-- Zesummen's first schema: organisations and their staff, events (single or in a series) and the
-- registrations and outgoing mail that hang off them. Later issues add to it with new files;
-- this one is never edited once landed.

CREATE TABLE organisations (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Staff accounts. An administrator (is_admin) acts for every organisation.
CREATE TABLE organisers (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    name           text NOT NULL DEFAULT '',
    password_hash  text,
    is_admin       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

CREATE TABLE memberships (
    organiser_id     bigint NOT NULL REFERENCES organisers ON DELETE CASCADE,
    organisation_id  bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    role             text NOT NULL CHECK (role IN ('admin', 'organiser', 'viewer')),
    PRIMARY KEY (organiser_id, organisation_id)
);
CREATE INDEX memberships_organisation_idx ON memberships (organisation_id);

-- Bearer tokens are kept only as a SHA-256 hash; a stolen table gives no working token.
CREATE TABLE api_tokens (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organiser_id  bigint NOT NULL REFERENCES organisers ON DELETE CASCADE,
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_organiser_idx ON api_tokens (organiser_id);

-- Luxembourg's communes; 0002 fills it. Information sessions name one.
CREATE TABLE communes (
    name    text PRIMARY KEY,
    canton  text NOT NULL
);

-- A recurring event: the rule it was expanded from. Each occurrence is a row of `events`.
CREATE TABLE series (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    rrule       text NOT NULL,
    exdates     timestamptz[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE events (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug                    text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,120}$'),
    organisation_id         bigint NOT NULL REFERENCES organisations,
    kind                    text NOT NULL CHECK (kind IN ('webconference', 'conversation_table', 'info_session')),
    status                  text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'cancelled')),
    title                   jsonb NOT NULL,
    summary                 jsonb NOT NULL DEFAULT '{}',
    description             jsonb NOT NULL DEFAULT '{}',
    languages               text[] NOT NULL CHECK (cardinality(languages) BETWEEN 1 AND 10),
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    timezone                text NOT NULL DEFAULT 'Europe/Luxembourg',
    capacity                integer CHECK (capacity >= 0),
    registration_opens_at   timestamptz,
    registration_closes_at  timestamptz,
    confirmation_required   boolean NOT NULL DEFAULT true,
    reminders               interval[] NOT NULL DEFAULT '{1 day, 1 hour}',
    -- kind-specific details
    join_url                text,
    platform                text,
    venue                   text,
    online                  boolean NOT NULL DEFAULT false,
    commune                 text REFERENCES communes,
    practised_language      text,
    level                   text CHECK (level IN ('A1', 'A2', 'B1', 'B2', 'C1', 'C2', 'all')),
    topics                  text[] NOT NULL DEFAULT '{}',
    audience                text,
    requesting_partner      text,
    -- series: the occurrence's original start is its RECURRENCE-ID even after it moves
    series_id               bigint REFERENCES series,
    recurrence_id           timestamptz,
    -- grows when the time or place of a published event changes (iCal SEQUENCE)
    revision                integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    published_at            timestamptz,
    cancelled_at            timestamptz,
    CHECK (ends_at > starts_at),
    CHECK (registration_closes_at IS NULL OR registration_opens_at IS NULL
           OR registration_closes_at > registration_opens_at),
    CHECK ((series_id IS NULL) = (recurrence_id IS NULL)),
    UNIQUE (series_id, recurrence_id)
);
-- the public list: published, upcoming, in start order (keyset pagination on (starts_at, id))
CREATE INDEX events_public_list_idx ON events (starts_at, id) WHERE status <> 'draft';
CREATE INDEX events_organisation_idx ON events (organisation_id, starts_at);
CREATE INDEX events_series_idx ON events (series_id) WHERE series_id IS NOT NULL;

-- A person's place at one event. Personal data is wiped by anonymisation, the row stays for counts.
CREATE TABLE registrations (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id          bigint NOT NULL REFERENCES events,
    -- the manage token is derived from this nonce with the server secret; only its hash is looked up
    token_nonce       bytea,
    token_hash        bytea UNIQUE,
    name              text,
    email             text CHECK (email = lower(email)),
    language          text NOT NULL CHECK (language IN ('fr', 'de', 'lb', 'en', 'pt')),
    status            text NOT NULL CHECK (status IN ('pending', 'confirmed', 'waitlisted', 'cancelled', 'expired')),
    commune           text,
    interpretation    text,
    accessibility     text,
    whole_series      boolean NOT NULL DEFAULT false,
    attendance        text CHECK (attendance IN ('present', 'absent', 'excused')),
    source            text NOT NULL DEFAULT 'public' CHECK (source IN ('public', 'organiser')),
    consent_at        timestamptz,
    hold_expires_at   timestamptz,
    -- the waiting list is served oldest first by this instant
    waitlisted_at     timestamptz,
    confirmed_at      timestamptz,
    cancelled_at      timestamptz,
    anonymised_at     timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (status <> 'pending' OR hold_expires_at IS NOT NULL),
    CHECK (anonymised_at IS NULL OR (email IS NULL AND name IS NULL AND token_hash IS NULL))
);
-- one live registration per address and event
CREATE UNIQUE INDEX registrations_one_live_per_email
    ON registrations (event_id, email) WHERE status IN ('pending', 'confirmed', 'waitlisted');
CREATE INDEX registrations_event_status_idx ON registrations (event_id, status);
CREATE INDEX registrations_waitlist_idx ON registrations (event_id, waitlisted_at, id) WHERE status = 'waitlisted';
CREATE INDEX registrations_hold_idx ON registrations (hold_expires_at) WHERE status = 'pending';

-- Mail to be sent, written in the same transaction as the change that causes it.
CREATE TABLE outbox (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind             text NOT NULL,
    event_id         bigint REFERENCES events,
    registration_id  bigint REFERENCES registrations,
    recipient        text,
    language         text NOT NULL DEFAULT 'fr',
    payload          jsonb NOT NULL DEFAULT '{}',
    -- reminders use (registration, offset, revision) so that each is queued at most once
    dedupe_key       text UNIQUE,
    status           text NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'retrying', 'sent', 'failed', 'skipped')),
    due_at           timestamptz NOT NULL DEFAULT now(),
    attempts         integer NOT NULL DEFAULT 0,
    lease_until      timestamptz,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_due_idx ON outbox (due_at, id) WHERE status IN ('queued', 'retrying');
CREATE INDEX outbox_event_idx ON outbox (event_id, status);
CREATE INDEX outbox_registration_idx ON outbox (registration_id);
