-- Communes ask the agency for information sessions and accompaniment (issue 23). A request is kept
-- with its thread of messages and the events it led to; its status link is a token derived from a
-- nonce with the server secret, of which only the hash is looked up (like registrations' manage
-- links). Online events may also be aimed at communes, for the communes' own calendars.

CREATE TABLE commune_requests (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id     bigint NOT NULL REFERENCES organisations,
    commune             text NOT NULL REFERENCES communes,
    requester_type      text NOT NULL
                        CHECK (requester_type IN ('administration', 'ccci', 'social_office', 'association', 'other')),
    contact_name        text NOT NULL CHECK (length(contact_name) BETWEEN 1 AND 200),
    email               text NOT NULL CHECK (email = lower(email) AND length(email) <= 254),
    phone               text NOT NULL DEFAULT '',
    language            text NOT NULL CHECK (language IN ('fr', 'de', 'lb', 'en', 'pt')),
    subject             text NOT NULL CHECK (subject IN (
                            'statuses_statistics', 'testimonies', 'volunteering', 'good_practices', 'other',
                            'accompaniment_pci', 'accompaniment_project', 'accompaniment_welcome')),
    -- up to three {"from": date, "to": date}
    preferred           jsonb NOT NULL DEFAULT '[]',
    audience_size       integer CHECK (audience_size BETWEEN 1 AND 100000),
    audience_languages  text[] NOT NULL DEFAULT '{}',
    interpretation      text[] NOT NULL DEFAULT '{}',
    venue               text NOT NULL DEFAULT '',
    step_free           boolean,
    message             text NOT NULL DEFAULT '',
    status              text NOT NULL DEFAULT 'new'
                        CHECK (status IN ('new', 'in_discussion', 'scheduled', 'done', 'declined')),
    reason              text CHECK (status <> 'declined' OR reason IS NOT NULL),
    assignee_id         bigint REFERENCES organisers ON DELETE SET NULL,
    note                text NOT NULL DEFAULT '',
    token_nonce         bytea NOT NULL,
    token_hash          bytea NOT NULL UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commune_requests_organisation_idx ON commune_requests (organisation_id, status, id);

-- the thread between the agency and the requester
CREATE TABLE commune_request_messages (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    bigint NOT NULL REFERENCES commune_requests ON DELETE CASCADE,
    author        text NOT NULL CHECK (author IN ('staff', 'requester')),
    organiser_id  bigint REFERENCES organisers ON DELETE SET NULL,
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commune_request_messages_request_idx ON commune_request_messages (request_id, id);

-- the sessions a request led to (several, possibly)
CREATE TABLE commune_request_events (
    request_id  bigint NOT NULL REFERENCES commune_requests ON DELETE CASCADE,
    event_id    bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    PRIMARY KEY (request_id, event_id)
);
CREATE INDEX commune_request_events_event_idx ON commune_request_events (event_id);

-- communes an event (an online one, typically) is aimed at, besides the commune it is held in
CREATE TABLE event_communes (
    event_id  bigint NOT NULL REFERENCES events ON DELETE CASCADE,
    commune   text NOT NULL REFERENCES communes,
    PRIMARY KEY (event_id, commune)
);
CREATE INDEX event_communes_commune_idx ON event_communes (commune, event_id);
