-- A search for a common word reads the list in order and checks each event's words
-- (server/events/search.py). Computing them from the title and summary took about 60 µs an event
-- on the big database of `make soak` (its summaries are long, in five languages): 5 ms for
-- q=table, where the small database answered from the word index in 0.4 ms. Each event now keeps
-- its words, as PostgreSQL's documentation advises for text search (12.2.2), and the word index
-- is on them.
--
-- A trigger keeps them rather than a generated column: PostgreSQL computes a stored generated
-- column again on every update of the row, and the seat counters update the event on every
-- registration (330 µs more each on the big database).

ALTER TABLE events ADD COLUMN search_words tsvector;
-- kept in the row rather than apart (TOAST) when the row is long: the other long columns go first,
-- and reading the list in order reads this one only (0.98 → 0.61 ms for q=table on the big database)
ALTER TABLE events ALTER COLUMN search_words SET STORAGE MAIN;

CREATE FUNCTION events_keep_search_words() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.title IS DISTINCT FROM OLD.title OR NEW.summary IS DISTINCT FROM OLD.summary
       OR NEW.search_words IS DISTINCT FROM OLD.search_words THEN
        NEW.search_words := event_search_words(NEW.title, NEW.summary);
    END IF;
    RETURN NEW;
END
$$;

-- The trigger of 0005 (as 0012 left it) passes the column by: it follows the title and summary.
-- It also compares the rows as they are now instead of as JSON: writing both rows out as JSON,
-- the words and the long texts with them, cost more than the rest of a seat counter's update.
CREATE OR REPLACE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    content events;  -- the new row with what is not content taken from the old one
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        content := NEW;
        content.seats_taken := OLD.seats_taken;
        content.waitlist_length := OLD.waitlist_length;
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

UPDATE events SET search_words = event_search_words(title, summary);
ALTER TABLE events ALTER COLUMN search_words SET NOT NULL;

CREATE TRIGGER events_keep_search_words BEFORE INSERT OR UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_keep_search_words();

CREATE INDEX events_search_words_idx ON events USING gin (search_words) WHERE status <> 'draft';
DROP INDEX events_search_idx;
