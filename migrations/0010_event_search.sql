-- The `q` filter of the public list and the feeds looks for words in an event's title and summary,
-- in any of its languages.
--
-- It used to read the JSON text of both columns, so `q=fr` matched every event by its language key
-- and a quote was searched for as `\"`; and with no index for it, it read every upcoming event: on
-- the big database (100,000 events, `make soak`) its p99 was 32 times the small database's.
-- event_search_text() gives the words alone, and a trigram index finds a word inside them.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- every text of the title and the summary, one after the other
CREATE FUNCTION event_search_text(title jsonb, summary jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT coalesce(string_agg(t.value, ' '), '')
            FROM (SELECT value FROM jsonb_each_text(title)
                  UNION ALL
                  SELECT value FROM jsonb_each_text(summary)) AS t);

CREATE INDEX events_search_idx ON events USING gin (event_search_text(title, summary) gin_trgm_ops)
    WHERE status <> 'draft';
