-- What needs attention on the back-office dashboard, found from indexes, and its pages (issue 22).
--
-- The dashboard's attention query (server/backoffice/queries.py, DASHBOARD_ATTENTION) read every
-- coming event of the person's organisations and probed event_seats and outbox for each: ASTI has
-- 2,620 coming events on the big database of `make soak`, where the small one has about 29, and the
-- p99 of the dashboard was 3.25 times the small one's. Each condition now has an index that holds
-- only the events that meet it, so the query reads the events with a problem and not the others.
--
-- "A waiting list while seats are free" compares the counters with the capacity, which event_seats
-- did not know: 6,657 events of the big database have a waiting list, nearly all of them full. The
-- counters' row now keeps a copy of the capacity (copied by triggers of events) and a stored
-- generated flag, and only the flag and the event's id are indexed. A registration's update of
-- the counters stays HOT (migration 0024) unless it turns the flag, since PostgreSQL compares the
-- indexed columns' old and new values and the flag rarely changes; an index on the counters
-- themselves would have made every registration write an index entry. (The copy is named
-- seats_offered, not capacity: queries join the two tables and name the event's capacity unqualified.)

ALTER TABLE event_seats ADD COLUMN seats_offered integer;
UPDATE event_seats s SET seats_offered = e.capacity FROM events e WHERE e.id = s.event_id AND e.capacity IS NOT NULL;
-- (adding a stored column rewrites the table: the versions the update left behind go with it)
ALTER TABLE event_seats ADD COLUMN waiting_while_free boolean NOT NULL
    GENERATED ALWAYS AS (waitlist_length > 0 AND (seats_offered IS NULL OR seats_taken < seats_offered)) STORED;
CREATE INDEX event_seats_waiting_while_free_idx ON event_seats (event_id) WHERE waiting_while_free;

-- 0024's counters of a new event, with its capacity
CREATE OR REPLACE FUNCTION events_add_seats() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_seats (event_id, seats_offered) SELECT id, capacity FROM new_rows;
    RETURN NULL;
END
$$;

-- a changed capacity reaches the counters' copy (the event's row is locked first, as a registration does)
CREATE FUNCTION events_copy_capacity() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE event_seats SET seats_offered = NEW.capacity WHERE event_id = NEW.id;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_copy_capacity AFTER UPDATE ON events
    FOR EACH ROW WHEN (OLD.capacity IS DISTINCT FROM NEW.capacity) EXECUTE FUNCTION events_copy_capacity();

-- the web conferences without a join link and information sessions without a venue, by organisation
-- and end, so that those not yet ended are one range of the index
CREATE INDEX events_without_join_link_idx ON events (organisation_id, ends_at)
    WHERE kind = 'webconference' AND coalesce(join_url, '') = '' AND status IN ('published', 'draft');
CREATE INDEX events_without_venue_idx ON events (organisation_id, ends_at)
    WHERE kind = 'info_session' AND coalesce(venue, '') = '' AND NOT online AND status IN ('published', 'draft');

-- the mails that failed for good, by event (a few among the millions sent)
CREATE INDEX outbox_failed_idx ON outbox (event_id) WHERE status = 'failed';

-- The dashboard's pages of coming events and drafts (DASHBOARD_PAGE, DASHBOARD_COUNT_AFTER), by
-- organisation and status in order of time: the organisation's index holds every status, and the
-- page of 11 drafts read ASTI's 2,806 events of the window to keep 239 drafts (4 ms on the big
-- database, the count after it 3 ms). Not partial: the status is a parameter of those statements,
-- and a generic plan cannot use an index whose predicate names a value.
CREATE INDEX events_dashboard_idx ON events (organisation_id, status, starts_at, id) INCLUDE (ends_at);
