-- The public search: one column of words, one index, one query (server/events/queries.py).
--
-- Migrations 0013 to 0019 and an in-application cost model (server/events/search.py, removed)
-- chose between strategies per search, kept lists of every word per kind to expand prefixes, and
-- tuned the indexes and the table around the seat counters' updates of the event row. The counters
-- now have their own table (0024), so an event's row is written only when the event changes, and
-- the words can simply be a stored generated column.
--
-- The matching is that of 0010: every word typed begins a word of the title or summary, in any of
-- the event's languages, with the `simple` configuration (lower case, no stemming, accents kept).
-- The search statement is planned for the words typed (events/service.py): from the statistics
-- ANALYZE keeps of this column, PostgreSQL finds a rare word through the GIN index and reads the
-- list in order for a common one, checking each event's words until the page is full.

DROP TRIGGER events_keep_search_lexemes_new ON events;
DROP TRIGGER events_keep_search_lexemes_changed ON events;
DROP TRIGGER events_keep_search_words ON events;
DROP FUNCTION events_keep_search_lexemes();
DROP FUNCTION events_keep_search_words();
DROP FUNCTION event_search_index_query(text);
DROP FUNCTION event_search_index_query(text, text);
DROP TABLE event_search_lexemes;
DROP TABLE event_search_kind_lexemes;

-- the trigger of 0024 without the old column; a generated column is no content of its own either
CREATE OR REPLACE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    content events;  -- the new row with what is not content taken from the old one
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at THEN
        content := NEW;
        content.row_version := OLD.row_version;
        content.registrations_anonymised_at := OLD.registrations_anonymised_at;
        content.search := OLD.search;
        IF content IS DISTINCT FROM OLD THEN
            -- clock_timestamp, not now(): a second change in one transaction must still move it
            NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- An event's words (0010), each kept under the event's kind ("webconference/table"), and its spoken
-- languages as the tokens "spoken=...", which no word can be. One index then answers the words with
-- those filters: a search of one kind reads only that kind's words in the index, so that a common
-- word the kind never holds is found absent at once (no web conference says "table"; as one word
-- of all events, GIN gathered its 58,000 events before intersecting, 20 ms on the big database).
CREATE FUNCTION event_search_vector(title jsonb, summary jsonb, kind text, languages text[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_tsvector(
        ARRAY(SELECT kind || '/' || w FROM unnest(tsvector_to_array(event_search_words(title, summary))) AS w)
        || ARRAY(SELECT 'spoken=' || l FROM unnest(languages) AS l));

-- What a person typed, as in 0010 every word as the beginning of a word, of the kind asked or of
-- any of the three kinds of events.kind's CHECK (a fourth needs adding here), with the spoken
-- language asked; NULL, which matches nothing, without a word. Each lexeme is quoted, so that no
-- character typed is query syntax.
CREATE FUNCTION event_search_query(typed text, of_kind text, spoken text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT CASE WHEN bool_or(is_word) THEN string_agg(part, ' & ')::tsquery END
            FROM (SELECT true AS is_word,
                         '(' || string_agg('''' || replace(replace(k || '/' || w, '\', '\\'), '''', '''''') || ''':*',
                                           ' | ') || ')' AS part
                  FROM unnest(tsvector_to_array(to_tsvector('simple', typed))) AS w,
                       unnest(CASE WHEN of_kind IS NULL THEN ARRAY['conversation_table', 'info_session', 'webconference']
                                   ELSE ARRAY[of_kind] END) AS k
                  GROUP BY w
                  UNION ALL
                  SELECT false, '''' || replace(replace('spoken=' || spoken, '\', '\\'), '''', '''''') || ''''
                  WHERE spoken IS NOT NULL) AS parts);
DROP FUNCTION event_search_query(text);

-- (dropping the column drops the indexes of 0015 and 0016 on it)
ALTER TABLE events DROP COLUMN search_words,
    ADD COLUMN search tsvector NOT NULL
        GENERATED ALWAYS AS (event_search_vector(title, summary, kind, languages)) STORED;

-- (drafts too: the function below asks it with nothing else an index could answer)
CREATE INDEX events_search_idx ON events USING gin (search);

-- The events matching `query` (drafts too), with what the list's filters read, found through the
-- words' index alone. When the planner expects the words to be common it reads the table instead,
-- and for a common word that the filters exclude (they are in the query) it reads it to the end:
-- so this function allows it a bitmap of an index only, and asks nothing another index answers
-- (not even the status, which the partial indexes of events hold).
CREATE FUNCTION event_search_matches(query tsquery)
    RETURNS TABLE (id bigint, starts_at timestamptz, status text, kind text, languages text[], commune text,
                   organisation_id bigint)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET enable_seqscan = off SET enable_indexscan = off SET enable_indexonlyscan = off
    BEGIN ATOMIC
        SELECT e.id, e.starts_at, e.status, e.kind, e.languages, e.commune, e.organisation_id FROM events e
        WHERE e.search @@ query;
    END;

DROP EXTENSION btree_gin;
