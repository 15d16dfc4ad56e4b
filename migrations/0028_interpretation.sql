-- The interpretation service (issue 24): a pool of interpreters kept by an organisation, missions
-- (requests from partner services, or entered by staff) and the offers made for them.
--
-- An interpreter can never hold two overlapping missions, whatever races happen: PostgreSQL refuses
-- it with two exclusion constraints (btree_gist lets a GiST index hold the interpreter's id), not a
-- check in Python.
--   1. missions_never_overlap: no two held missions of one interpreter share an instant.
--   2. missions_leave_travel_time: two held on-site missions of one interpreter in different communes
--      leave 30 minutes between them. `travel` is the mission widened by 15 minutes on each side, set
--      by a trigger from the row itself whenever the mission is held and on site (never by hand, so it
--      cannot be stale after the mission moves); two such ranges overlap exactly when the gap is under
--      30 minutes, and `commune WITH <>` leaves missions in the same commune (or a remote one, whose
--      travel is NULL) to the first constraint only.
-- A mission is held while its status is `assigned` or `done`; a cancelled one frees its interpreter.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE TABLE interpreters (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    email            text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    phone            text NOT NULL CHECK (length(phone) BETWEEN 1 AND 40),
    language         text NOT NULL DEFAULT 'fr' CHECK (language IN ('fr', 'de', 'lb', 'en', 'pt')),
    communes         text[] NOT NULL DEFAULT '{}',
    cantons          text[] NOT NULL DEFAULT '{}',
    monthly_cap      integer NOT NULL DEFAULT 20 CHECK (monthly_cap BETWEEN 0 AND 1000),
    -- the private link's token is derived from the nonce and SECRET_KEY, looked up by its SHA-256
    token_nonce      bytea NOT NULL,
    token_hash       bytea NOT NULL UNIQUE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, email)
);

-- the languages an interpreter speaks (ISO 639 codes as Babel knows them) and how well
CREATE TABLE interpreter_languages (
    interpreter_id  bigint NOT NULL REFERENCES interpreters ON DELETE CASCADE,
    code            text NOT NULL CHECK (code ~ '^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$'),
    level           text NOT NULL CHECK (level IN ('B1', 'B2', 'C1', 'C2', 'native')),
    PRIMARY KEY (interpreter_id, code)
);
CREATE INDEX interpreter_languages_code_idx ON interpreter_languages (code, interpreter_id);

-- weekly availability, in Luxembourg's local time: ISO weekday (1 = Monday) and hours
CREATE TABLE interpreter_availability (
    interpreter_id  bigint NOT NULL REFERENCES interpreters ON DELETE CASCADE,
    weekday         smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts          time NOT NULL,
    ends            time NOT NULL,
    CHECK (ends > starts)
);
CREATE INDEX interpreter_availability_idx ON interpreter_availability (interpreter_id, weekday);

-- exceptions to the weekly availability (holidays): whole days, both ends included
CREATE TABLE interpreter_absences (
    interpreter_id  bigint NOT NULL REFERENCES interpreters ON DELETE CASCADE,
    days            daterange NOT NULL CHECK (NOT isempty(days))
);
CREATE INDEX interpreter_absences_idx ON interpreter_absences USING gist (interpreter_id, days);

CREATE TABLE interpretation_missions (
    id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id         bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    starts_at               timestamptz NOT NULL,
    ends_at                 timestamptz NOT NULL,
    mode                    text NOT NULL CHECK (mode IN ('on_site', 'phone', 'video')),
    commune                 text REFERENCES communes (name),
    address                 text NOT NULL DEFAULT '' CHECK (length(address) <= 300),
    from_language           text NOT NULL CHECK (from_language ~ '^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$'),
    to_language             text NOT NULL CHECK (to_language ~ '^[a-z]{2,3}(_[A-Za-z0-9]{2,4})?$'),
    field                   text NOT NULL CHECK (field IN ('social', 'school', 'health', 'administrative', 'legal')),
    requester_organisation  text NOT NULL CHECK (length(requester_organisation) BETWEEN 1 AND 200),
    requester_contact       text NOT NULL CHECK (length(requester_contact) BETWEEN 1 AND 200),
    requester_email         text NOT NULL
                            CHECK (requester_email = lower(requester_email) AND length(requester_email) <= 254),
    requester_phone         text NOT NULL DEFAULT '' CHECK (length(requester_phone) <= 40),
    requester_type          text NOT NULL
                            CHECK (requester_type IN ('social_office', 'school', 'commune', 'hospital', 'other')),
    requester_language      text NOT NULL DEFAULT 'fr' CHECK (requester_language IN ('fr', 'de', 'lb', 'en', 'pt')),
    beneficiary_initials    text NOT NULL DEFAULT '' CHECK (length(beneficiary_initials) <= 8),
    urgency                 text NOT NULL DEFAULT 'normal' CHECK (urgency IN ('normal', 'urgent')),
    notes                   text NOT NULL DEFAULT '' CHECK (length(notes) <= 2000),
    status                  text NOT NULL DEFAULT 'requested'
                            CHECK (status IN ('requested', 'offered', 'assigned', 'done', 'cancelled')),
    interpreter_id          bigint REFERENCES interpreters,
    travel                  tstzrange,
    -- the calendar invitation's SEQUENCE: one more each time the mission moves or is cancelled
    sequence                integer NOT NULL DEFAULT 0,
    minutes_spent           integer CHECK (minutes_spent BETWEEN 0 AND 24 * 60),
    -- the requester's status link, like an interpreter's; both erased on anonymisation
    status_nonce            bytea,
    status_hash             bytea UNIQUE,
    -- the personal data (contact, initials, notes, address) is wiped as long after the mission as
    -- registrations' after their event; languages, field, requester type and hours stay for the reports
    anonymised_at           timestamptz,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at AND ends_at - starts_at <= interval '12 hours'),
    CHECK ((mode = 'on_site') = (commune IS NOT NULL)),
    CHECK ((status IN ('assigned', 'done')) = (interpreter_id IS NOT NULL)),
    CHECK ((anonymised_at IS NULL) = (status_nonce IS NOT NULL AND status_hash IS NOT NULL)),
    CONSTRAINT missions_never_overlap EXCLUDE USING gist (
        interpreter_id WITH =, tstzrange(starts_at, ends_at) WITH &&
    ) WHERE (status IN ('assigned', 'done')),
    CONSTRAINT missions_leave_travel_time EXCLUDE USING gist (
        interpreter_id WITH =, travel WITH &&, commune WITH <>
    ) WHERE (status IN ('assigned', 'done') AND travel IS NOT NULL)
);
CREATE INDEX interpretation_missions_organisation_idx ON interpretation_missions (organisation_id, starts_at);
CREATE INDEX interpretation_missions_to_anonymise_idx ON interpretation_missions (ends_at) WHERE anonymised_at IS NULL;

-- the travel range follows the row: widened by 15 minutes on each side while held and on site
CREATE FUNCTION interpretation_missions_travel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.travel := CASE WHEN NEW.status IN ('assigned', 'done') AND NEW.mode = 'on_site'
                       THEN tstzrange(NEW.starts_at - interval '15 minutes', NEW.ends_at + interval '15 minutes') END;
    RETURN NEW;
END $$;
CREATE TRIGGER interpretation_missions_travel BEFORE INSERT OR UPDATE ON interpretation_missions
    FOR EACH ROW EXECUTE FUNCTION interpretation_missions_travel();

CREATE TABLE interpretation_offers (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    mission_id      bigint NOT NULL REFERENCES interpretation_missions ON DELETE CASCADE,
    interpreter_id  bigint NOT NULL REFERENCES interpreters ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'offered'
                    CHECK (status IN ('offered', 'accepted', 'declined', 'taken', 'expired')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    answered_at     timestamptz,
    UNIQUE (mission_id, interpreter_id)
);
CREATE INDEX interpretation_offers_interpreter_idx ON interpretation_offers (interpreter_id, status);
-- the first to accept gets it: a second accepted offer for one mission cannot exist
CREATE UNIQUE INDEX interpretation_offers_one_accepted ON interpretation_offers (mission_id) WHERE status = 'accepted';
