-- The organisers' back-office (issue 22): browser sessions, password resets by mail, the account's
-- interface language, and an audit log of who did what.
--
-- A session's token lives only in the person's cookie; the table keeps its SHA-256, like bearer
-- tokens, so a copy of the table opens no session. Sessions die on sign-out, on "sign out
-- everywhere", when the password is set (revoke_credentials) and after a spell without use.
ALTER TABLE organisers ADD COLUMN language text CHECK (language IN ('fr', 'de', 'lb', 'en', 'pt'));

CREATE TABLE sessions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organiser_id  bigint NOT NULL REFERENCES organisers ON DELETE CASCADE,
    token_hash    bytea NOT NULL UNIQUE,
    user_agent    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    revoked_at    timestamptz
);
CREATE INDEX sessions_live_idx ON sessions (organiser_id) WHERE revoked_at IS NULL;

-- "Forgot password": the same shape as an invitation (migration 0020). The link's token is derived
-- from the nonce and SECRET_KEY at send time and looked up by its hash; spent, the nonce is erased.
CREATE TABLE password_resets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organiser_id  bigint NOT NULL REFERENCES organisers ON DELETE CASCADE,
    token_nonce   bytea,
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    spent_at      timestamptz,
    CHECK ((spent_at IS NULL) = (token_nonce IS NOT NULL))
);
CREATE INDEX password_resets_open_idx ON password_resets (organiser_id) WHERE spent_at IS NULL;

-- Who did what, kept as long as the event (or organisation) it is about; an account's rows keep
-- their actor's email in `actor_email` after the account is gone. No password ever goes in `detail`.
CREATE TABLE audit_log (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    actor_id         bigint REFERENCES organisers ON DELETE SET NULL,
    actor_email      text NOT NULL DEFAULT '',
    action           text NOT NULL,
    organisation_id  bigint REFERENCES organisations ON DELETE CASCADE,
    event_id         bigint REFERENCES events ON DELETE CASCADE,
    detail           jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_organisation_idx ON audit_log (organisation_id, at DESC);
CREATE INDEX audit_log_event_idx ON audit_log (event_id, at DESC) WHERE event_id IS NOT NULL;
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id, at DESC);
