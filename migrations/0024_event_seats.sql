-- The seat counters of an event live in a narrow table of their own, `event_seats`, as pretix keeps
-- its quotas apart from its events.
--
-- A registration changes the counters, and that is the hottest write of the service. Kept in the
-- event's row (0003), each one wrote a new version of that wide row (3.6 KB on the big database of
-- `make soak`), and, when the page had no room for it, an entry in every index of events, the
-- search's GIN indexes among them: 0018 and 0019 then tuned the indexes and the table around that
-- write. A row of event_seats is 36 bytes and has one index, its primary key, which an update of
-- the counters leaves alone: the update is HOT, and a registration writes nothing in `events`.
--
-- The seat decisions still serialize on the event's row lock (registrations/queries.py): a lock is
-- no new row version. The counters are read and locked with it in the same statement, so that the
-- statement that waited for the lock reads them as the transaction before it left them.

CREATE TABLE event_seats (
    event_id        bigint PRIMARY KEY REFERENCES events ON DELETE CASCADE,
    -- pending + confirmed registrations
    seats_taken     integer NOT NULL DEFAULT 0 CHECK (seats_taken >= 0),
    waitlist_length integer NOT NULL DEFAULT 0 CHECK (waitlist_length >= 0)
) WITH (fillfactor = 50);  -- room in each page for the next versions of its rows (HOT updates)

INSERT INTO event_seats (event_id, seats_taken, waitlist_length) SELECT id, seats_taken, waitlist_length FROM events;

-- every event has its counters from the start
CREATE FUNCTION events_add_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_seats (event_id) SELECT id FROM new_rows;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_add_seats AFTER INSERT ON events REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION events_add_seats();

-- The counting of 0008, on event_seats: the same counts, and the same refusal of a statement that
-- gives an event more seats than it offers (`events_never_overbooked`, unless
-- `zesummen.allow_overbooking = on`, which only the race test's control sets).
CREATE OR REPLACE FUNCTION registrations_count_seats_per_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    refused bigint;  -- an event the statement overbooked, if any
    taken integer;
    seats integer;
BEGIN
    -- (one branch per operation: a statement naming a transition table the trigger lacks fails
    -- only when it runs, and plpgsql plans a statement when it runs)
    IF TG_OP = 'INSERT' THEN
        WITH deltas AS (
            SELECT event_id, count(*) FILTER (WHERE status IN ('pending', 'confirmed'))::int AS held,
                   count(*) FILTER (WHERE status = 'waitlisted')::int AS waiting
            FROM new_rows GROUP BY event_id
        ), counted AS (
            UPDATE event_seats s
               SET seats_taken = s.seats_taken + d.held, waitlist_length = s.waitlist_length + d.waiting
            FROM deltas d WHERE s.event_id = d.event_id AND (d.held <> 0 OR d.waiting <> 0)
            RETURNING s.event_id, s.seats_taken, d.held
        )
        SELECT c.event_id, c.seats_taken, e.capacity INTO refused, taken, seats
        FROM counted c JOIN events e ON e.id = c.event_id
        WHERE c.held > 0 AND e.capacity IS NOT NULL AND c.seats_taken > e.capacity ORDER BY c.event_id LIMIT 1;
    ELSIF TG_OP = 'UPDATE' THEN
        IF EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n USING (id) WHERE o.event_id <> n.event_id) THEN
            RAISE EXCEPTION 'a registration does not move to another event';
        END IF;
        WITH changes AS (
            SELECT event_id, (status IN ('pending', 'confirmed'))::int AS held, (status = 'waitlisted')::int AS waiting
            FROM new_rows
            UNION ALL
            SELECT event_id, -(status IN ('pending', 'confirmed'))::int, -(status = 'waitlisted')::int
            FROM old_rows
        ), deltas AS (
            SELECT event_id, sum(held)::int AS held, sum(waiting)::int AS waiting FROM changes GROUP BY event_id
        ), counted AS (
            UPDATE event_seats s
               SET seats_taken = s.seats_taken + d.held, waitlist_length = s.waitlist_length + d.waiting
            FROM deltas d WHERE s.event_id = d.event_id AND (d.held <> 0 OR d.waiting <> 0)
            RETURNING s.event_id, s.seats_taken, d.held
        )
        SELECT c.event_id, c.seats_taken, e.capacity INTO refused, taken, seats
        FROM counted c JOIN events e ON e.id = c.event_id
        WHERE c.held > 0 AND e.capacity IS NOT NULL AND c.seats_taken > e.capacity ORDER BY c.event_id LIMIT 1;
    ELSE
        WITH deltas AS (
            SELECT event_id, -count(*) FILTER (WHERE status IN ('pending', 'confirmed'))::int AS held,
                   -count(*) FILTER (WHERE status = 'waitlisted')::int AS waiting
            FROM old_rows GROUP BY event_id
        )
        UPDATE event_seats s
           SET seats_taken = s.seats_taken + d.held, waitlist_length = s.waitlist_length + d.waiting
        FROM deltas d WHERE s.event_id = d.event_id AND (d.held <> 0 OR d.waiting <> 0);
    END IF;
    IF refused IS NOT NULL AND coalesce(current_setting('zesummen.allow_overbooking', true), '') <> 'on' THEN
        RAISE EXCEPTION 'event % would be overbooked: % seats taken of %', refused, taken, seats
            USING ERRCODE = 'check_violation', CONSTRAINT = 'events_never_overbooked';
    END IF;
    RETURN NULL;
END
$$;

-- 0013's trigger without the counters, which are no longer in the row
CREATE OR REPLACE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    content events;  -- the new row with what is not content taken from the old one
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        content := NEW;
        content.row_version := OLD.row_version;
        content.registrations_anonymised_at := OLD.registrations_anonymised_at;
        content.search_words := OLD.search_words;
        IF content IS DISTINCT FROM OLD THEN
            -- clock_timestamp, not now(): a second change in one transaction must still move it
            NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

ALTER TABLE events DROP COLUMN seats_taken, DROP COLUMN waitlist_length;
-- 0019's room for the counters' updates is no longer needed
ALTER TABLE events RESET (fillfactor);
