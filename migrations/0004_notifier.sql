-- The notifier (issue 4). Workers claim outbox rows with a lease; a row's result is recorded only
-- by the worker that still holds its lease, so a worker that lost its lease (it hung, or crashed and
-- was replaced) cannot overwrite what the next one did. New mail wakes the workers through
-- LISTEN/NOTIFY instead of waiting for their next poll. A reminder carries the moment after which
-- it is no longer worth sending (its time plus a grace period), and a resent copy names its original.

ALTER TABLE outbox
    -- which worker copy holds the lease (host:pid:random), for recording and for the operator
    ADD COLUMN lease_owner      text,
    ADD COLUMN last_attempt_at  timestamptz,
    -- not sent after this instant: skipped instead (a reminder that would arrive too late)
    ADD COLUMN expires_at       timestamptz,
    -- an organiser's resend of a message that was already sent is a new row (a new Message-ID)
    ADD COLUMN resent_from      bigint REFERENCES outbox;

-- Wakes the workers listening on `zesummen_outbox` once per statement that queued mail; PostgreSQL
-- delivers it on commit and drops it on rollback, like the rows themselves.
CREATE FUNCTION outbox_wake_workers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- (two statements: a row trigger has no `queued_rows`, and plpgsql plans a statement when it runs)
    IF TG_LEVEL = 'ROW' THEN
        PERFORM pg_notify('zesummen_outbox', '');
    ELSIF EXISTS (SELECT 1 FROM queued_rows WHERE status = 'queued') THEN
        PERFORM pg_notify('zesummen_outbox', '');
    END IF;
    RETURN NULL;
END
$$;

-- one call per INSERT statement, however many rows it writes (reminder planning writes many)
CREATE TRIGGER outbox_wake_on_insert
    AFTER INSERT ON outbox REFERENCING NEW TABLE AS queued_rows
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_wake_workers();

-- a row put back into the queue (an organiser's resend); the workers' own updates never fire it,
-- so that one worker's claim does not wake the others for nothing
CREATE TRIGGER outbox_wake_on_requeue
    AFTER UPDATE OF status ON outbox
    FOR EACH ROW WHEN (NEW.status = 'queued' AND OLD.status <> 'queued')
    EXECUTE FUNCTION outbox_wake_workers();
