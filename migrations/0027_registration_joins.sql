-- Web conferences mark their own attendance (issue 22): each confirmed person's personal link
-- (/j/{token}) records when they first and last followed it. A narrow table of its own, so that a
-- join (possibly many, at the start of a conference) writes one small row and never the wide
-- registration row, which the seat and outbox paths lock and update. The token is derived from the
-- registration's nonce (server/registrations/tokens.py): nothing is stored for it.
CREATE TABLE registration_joins (
    registration_id  bigint PRIMARY KEY REFERENCES registrations ON DELETE CASCADE,
    first_joined_at  timestamptz NOT NULL,
    last_joined_at   timestamptz NOT NULL,
    joins            integer NOT NULL DEFAULT 1 CHECK (joins > 0),
    CHECK (last_joined_at >= first_joined_at)
);
