-- What came of a commune's request (issue 23, "After it"): marking a request done records its outcome
-- (attendance, what was discussed, the follow-up wanted), and the good practices noted there are kept
-- per request and per commune over the years, for the agency's export to the ministry and the CCCI
-- network. Attendance is a snapshot taken when the request is closed: counted from the linked events'
-- present registrations, or stated by staff when no event was linked (or the count is off).

CREATE TABLE commune_request_outcomes (
    request_id         bigint PRIMARY KEY REFERENCES commune_requests ON DELETE CASCADE,
    attendance         integer NOT NULL CHECK (attendance BETWEEN 0 AND 100000),
    -- true when the figure is the linked events' present count, false when staff stated it
    attendance_counted boolean NOT NULL,
    discussed          text NOT NULL CHECK (length(discussed) BETWEEN 1 AND 5000),
    follow_up          boolean NOT NULL,
    follow_up_text     text NOT NULL DEFAULT '' CHECK (length(follow_up_text) <= 2000),
    -- the day the sessions were held (the last linked event), else the day of recording: a practice's year
    held_on            date NOT NULL,
    recorded_by        bigint REFERENCES organisers ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

-- good practices noted at a request's outcome, with the commune's name kept for the years to come: a
-- request that has practices cannot be deleted (its personal data is to be wiped, not the row)
CREATE TABLE good_practices (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id       bigint NOT NULL REFERENCES commune_requests,
    organisation_id  bigint NOT NULL REFERENCES organisations,
    commune          text NOT NULL REFERENCES communes,
    position         smallint NOT NULL CHECK (position BETWEEN 0 AND 99),
    title            text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    description      text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
    tags             text[] NOT NULL DEFAULT '{}' CHECK (cardinality(tags) <= 10),
    held_on          date NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (request_id, position)
);
CREATE INDEX good_practices_commune_idx ON good_practices (commune, held_on);
CREATE INDEX good_practices_held_idx ON good_practices (organisation_id, held_on);
CREATE INDEX good_practices_tags_idx ON good_practices USING gin (tags);
