-- Nobody sets another person's password any more (issue 20: an organisation's admin could take over
-- any account, the global administrator's included, by "creating" it again with a password of their
-- choice). A new staff account gets an invitation mail instead, whose link lets its owner choose the
-- password, once, within 48 hours.
--
-- The link's token is never stored: like a registration's manage token it is derived from
-- `token_nonce` and SECRET_KEY (the notifier writes the mail later and needs the link again), and
-- looked up by its SHA-256. Once the invitation is spent (used, replaced by a newer one, or void
-- because the account got a password another way) the nonce is erased, so no link can be derived.
CREATE TABLE invitations (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organiser_id  bigint NOT NULL REFERENCES organisers ON DELETE CASCADE,
    invited_by    bigint REFERENCES organisers ON DELETE SET NULL,
    token_nonce   bytea,
    token_hash    bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    spent_at      timestamptz,
    CHECK ((spent_at IS NULL) = (token_nonce IS NOT NULL))
);
CREATE INDEX invitations_open_idx ON invitations (organiser_id) WHERE spent_at IS NULL;
