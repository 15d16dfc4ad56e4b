-- A search for a common word reads the list in order and checks each event's words
-- (server/events/search.py). Computing them from the title and summary took about 60 µs an event
-- on the big database of `make soak` (its summaries are long, in five languages): 5 ms for
-- q=table, where the small database answered from the word index in 0.4 ms. Each event now keeps
-- its words, as PostgreSQL's documentation advises for text search (12.2.2), and the word index
-- is on them.

ALTER TABLE events ADD COLUMN search_words tsvector
    GENERATED ALWAYS AS (event_search_words(title, summary)) STORED;

CREATE INDEX events_search_words_idx ON events USING gin (search_words) WHERE status <> 'draft';
DROP INDEX events_search_idx;

-- The trigger of 0005 (as 0012 left it) must pass the column by: it follows the title and the
-- summary, and a BEFORE trigger does not see it computed, so it would look changed every time.
CREATE OR REPLACE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
       AND to_jsonb(NEW) - '{seats_taken,waitlist_length,row_version,updated_at,registrations_anonymised_at,search_words}'::text[]
           IS DISTINCT FROM
           to_jsonb(OLD) - '{seats_taken,waitlist_length,row_version,updated_at,registrations_anonymised_at,search_words}'::text[] THEN
        -- clock_timestamp, not now(): a second change in one transaction must still move it
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    END IF;
    RETURN NEW;
END
$$;
