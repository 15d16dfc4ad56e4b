-- The door's check-in, faster: marking someone present no longer runs the seat counting.
--
-- 0008's update trigger counts seats from the statement's transition tables, and a trigger with
-- transition tables can name no columns nor carry a WHEN clause: it ran for every update of
-- registrations, an attendance tap at the door or a join through /j/ included, which change no
-- seat. Under 20 door phones tapping at once (`make bench`, bench/bench_door.py) the check-in POST
-- came to 0.41 of the bare INSERT endpoint, the target being 0.5.
--
-- The update trigger is now a row trigger that fires only when a registration's status (or its
-- event) changes, and counts that one row. Statements that change statuses move every row the
-- same way (confirm, promote, cancel, expire: seats only taken or only given back in one
-- statement), so refusing at the row that overbooks refuses the same statements as refusing at
-- the end (`events_never_overbooked`, unless `zesummen.allow_overbooking = on`). Inserts and
-- deletes keep 0008's counting per statement (bursts of registrations come as inserts).

CREATE FUNCTION registrations_count_seats_on_status_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    held integer := (NEW.status IN ('pending', 'confirmed'))::int - (OLD.status IN ('pending', 'confirmed'))::int;
    waiting integer := (NEW.status = 'waitlisted')::int - (OLD.status = 'waitlisted')::int;
    taken integer;
    seats integer;
BEGIN
    IF NEW.event_id <> OLD.event_id THEN
        RAISE EXCEPTION 'a registration does not move to another event';
    END IF;
    IF held = 0 AND waiting = 0 THEN
        RETURN NULL;
    END IF;
    UPDATE event_seats s SET seats_taken = s.seats_taken + held, waitlist_length = s.waitlist_length + waiting
    WHERE s.event_id = NEW.event_id
    RETURNING s.seats_taken INTO taken;
    IF held > 0 AND coalesce(current_setting('zesummen.allow_overbooking', true), '') <> 'on' THEN
        SELECT capacity INTO seats FROM events WHERE id = NEW.event_id;
        IF seats IS NOT NULL AND taken > seats THEN
            RAISE EXCEPTION 'event % would be overbooked: % seats taken of %', NEW.event_id, taken, seats
                USING ERRCODE = 'check_violation', CONSTRAINT = 'events_never_overbooked';
        END IF;
    END IF;
    RETURN NULL;
END
$$;

DROP TRIGGER registrations_count_seats_update ON registrations;
CREATE TRIGGER registrations_count_seats_update
    AFTER UPDATE OF status, event_id ON registrations
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.event_id IS DISTINCT FROM NEW.event_id)
    EXECUTE FUNCTION registrations_count_seats_on_status_change();
