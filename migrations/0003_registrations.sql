-- Registrations (issue 3): never overbook, a waiting list served oldest first, whole-series
-- requests, rate limits that hold across app processes.
--
-- The service decides every seat under a lock on the event row. This file adds the database's
-- backstop for that promise: a counter of held seats (pending + confirmed) kept by a trigger on
-- registrations, which refuses an increment past the capacity. A decrease of the capacity itself is
-- not refused, so an organiser can still force it below the seats already given (no one is removed).
-- The counters also spare every event read a count over its registrations.

ALTER TABLE events
    ADD COLUMN seats_taken integer NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
    ADD COLUMN waitlist_length integer NOT NULL DEFAULT 0 CHECK (waitlist_length >= 0);

UPDATE events e SET
    seats_taken = (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status IN ('pending', 'confirmed')),
    waitlist_length = (SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted');

-- The registrations of one `whole_series` request share this id: confirming one confirms them all.
ALTER TABLE registrations
    ADD COLUMN request_id uuid,
    -- the address was proven by the confirm link (a waitlisted person may confirm ahead of a seat)
    ADD COLUMN email_confirmed_at timestamptz,
    ADD CONSTRAINT registrations_waitlisted_has_instant CHECK (status <> 'waitlisted' OR waitlisted_at IS NOT NULL);
CREATE INDEX registrations_request_idx ON registrations (request_id) WHERE request_id IS NOT NULL;
-- the anonymisation job looks for rows still carrying personal data
CREATE INDEX registrations_not_anonymised_idx ON registrations (event_id) WHERE anonymised_at IS NULL;

-- Keeps events.seats_taken and events.waitlist_length equal to the rows, and refuses a seat past the
-- capacity. `zesummen.allow_overbooking = on` (SET LOCAL) turns the refusal off for one transaction:
-- only the race test's control does that, to show what the lock alone prevents.
CREATE FUNCTION registrations_count_seats() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    old_held integer := 0;
    new_held integer := 0;
    old_waiting integer := 0;
    new_waiting integer := 0;
    taken integer;
    seats integer;
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        old_held := (OLD.status IN ('pending', 'confirmed'))::integer;
        old_waiting := (OLD.status = 'waitlisted')::integer;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        new_held := (NEW.status IN ('pending', 'confirmed'))::integer;
        new_waiting := (NEW.status = 'waitlisted')::integer;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.event_id <> NEW.event_id THEN
        RAISE EXCEPTION 'a registration does not move to another event';
    END IF;
    -- touch the event row only when a count changes: confirming a pending seat is no change
    IF old_held = new_held AND old_waiting = new_waiting THEN
        RETURN NULL;
    END IF;
    UPDATE events
       SET seats_taken = seats_taken + new_held - old_held,
           waitlist_length = waitlist_length + new_waiting - old_waiting
     WHERE id = coalesce(NEW.event_id, OLD.event_id)
    RETURNING seats_taken, capacity INTO taken, seats;
    IF new_held > old_held AND seats IS NOT NULL AND taken > seats
       AND coalesce(current_setting('zesummen.allow_overbooking', true), '') <> 'on' THEN
        RAISE EXCEPTION 'event % would be overbooked: % seats taken of %', coalesce(NEW.event_id, OLD.event_id), taken, seats
            USING ERRCODE = 'check_violation', CONSTRAINT = 'events_never_overbooked';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER registrations_count_seats
    AFTER INSERT OR DELETE OR UPDATE OF status, event_id ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_count_seats();

-- Attempts per key (a hashed client address or email) and fixed time window. In PostgreSQL so that
-- the limits hold across every app process. UNLOGGED: a crash may forget the counters, which
-- is harmless, and their writes cost no WAL on the hot path of a registration.
CREATE UNLOGGED TABLE rate_limits (
    key           text NOT NULL,
    window_start  timestamptz NOT NULL,
    hits          integer NOT NULL DEFAULT 1,
    PRIMARY KEY (key, window_start)
);
CREATE INDEX rate_limits_window_idx ON rate_limits (window_start);

-- The daily mail cap per address counts the mails queued to it in the last 24 hours.
CREATE INDEX outbox_recipient_day_idx ON outbox (recipient, created_at) WHERE recipient IS NOT NULL;
