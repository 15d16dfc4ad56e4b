-- The `q` filter of the public list and the feeds looks for words in an event's title and summary,
-- in any of its languages.
--
-- It used to read the JSON text of both columns with ILIKE, so `q=fr` matched every event by its
-- language key; and with no index for it, it read every upcoming event: on the big database
-- (100,000 events, `make soak`) its p99 was 32 times the small database's. A trigram index on the
-- words brought that to 13 times (the GIN scan of a long word's many trigrams took about 8 ms), so
-- the search is by words: each word of `q` must begin a word of the event (`bient` finds
-- "Bientôt"), through a full-text index with the `simple` configuration (lower case, no stemming,
-- so that it treats the five languages alike).

-- every text of the title and the summary, one after the other
CREATE FUNCTION event_search_text(title jsonb, summary jsonb) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT coalesce(string_agg(t.value, ' '), '')
            FROM (SELECT value FROM jsonb_each_text(title)
                  UNION ALL
                  SELECT value FROM jsonb_each_text(summary)) AS t);

-- the words of an event, as the index keeps them
CREATE FUNCTION event_search_words(title jsonb, summary jsonb) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN to_tsvector('simple', event_search_text(title, summary));

-- what a person typed as a query: every word of it, each as the beginning of a word; NULL (matches
-- nothing) when it holds no word. Each word is quoted, so that no character of it is query syntax.
CREATE FUNCTION event_search_query(typed text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT string_agg('''' || replace(replace(w, '\', '\\'), '''', '''''') || ''':*', ' & ')::tsquery
            FROM unnest(tsvector_to_array(to_tsvector('simple', typed))) AS w);

CREATE INDEX events_search_idx ON events USING gin (event_search_words(title, summary)) WHERE status <> 'draft';
