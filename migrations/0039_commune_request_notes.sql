-- Internal notes on communes' requests (issue 23, behaviour 2): the back-office shows them in the
-- request's thread, each with its author and time, next to the messages exchanged with the requester.
-- A table of their own, not a third author of commune_request_messages, so that nothing reading the
-- requester's thread (the status page, the mails) can ever show a note. The single `note` column of
-- commune_requests stays what the API's PATCH sets.
CREATE TABLE commune_request_notes (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id    bigint NOT NULL REFERENCES commune_requests ON DELETE CASCADE,
    organiser_id  bigint REFERENCES organisers ON DELETE SET NULL,
    body          text NOT NULL CHECK (length(body) BETWEEN 1 AND 5000),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX commune_request_notes_request_idx ON commune_request_notes (request_id, id);
