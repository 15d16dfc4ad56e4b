-- The public search as one plain condition of the list's query, planned by PostgreSQL alone.
--
-- 0025 kept each word under the event's kind (`webconference/table`) and the spoken languages as
-- tokens of their own (`spoken=pt`); the list's query then checked the words of the first 200
-- coming events to choose between reading the list in order and the words' index, because the
-- planner, which multiplies the shares of a word and of a language as if they were independent,
-- took a word of French events asked in Portuguese (`q=vivre&spoken=pt`) for a common one and read
-- the whole list. That check, a second path through `event_search_matches` and the planning of a
-- statement joining both cost several times the search itself, on every search.
--
-- Each word is now kept three ways: on its own (`any/table`), under the event's kind
-- (`webconference/table`) and under each of its spoken languages (`pt/table`). A search asks for
-- each word typed under what it asks, one token a word: `any/` without a filter, the kind's, the
-- language's, or both, so that ANALYZE's statistics of this column give the planner the share of
-- what is asked. It then reads a common word's events in list order, and finds a rare one, or a
-- common one the filters exclude, through the GIN index, without being told which. No list of kinds
-- or languages is written here: a new one needs nothing. ("any" is neither a kind nor a language,
-- and the first part of a token is always one of them: a word typed with a "/" stays a word.)

DROP FUNCTION event_search_matches(tsquery);
-- (dropping the column drops its index; the generated column is made again below, with the new words)
ALTER TABLE events DROP COLUMN search;
DROP FUNCTION event_search_vector(jsonb, jsonb, text, text[]);

-- An event's words (0010), each on its own, under the event's kind and under each of its languages
-- (a word too long for a lexeme with what it is under is left out, as to_tsvector leaves out longer ones)
CREATE FUNCTION event_search_vector(title jsonb, summary jsonb, kind text, languages text[]) RETURNS tsvector
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN array_to_tsvector(ARRAY(
        SELECT under || '/' || w
        FROM unnest(tsvector_to_array(event_search_words(title, summary))) AS w,
             unnest(ARRAY['any', kind] || languages) AS under
        WHERE octet_length(under || '/' || w) <= 2046));

-- What a person typed, as in 0010 every word as the beginning of a word, under the kind and the
-- spoken language asked (both: under each), or on its own; NULL, which matches nothing, without a
-- word. Each lexeme is quoted, so that no character typed is query syntax.
CREATE OR REPLACE FUNCTION event_search_query(typed text, of_kind text, spoken text) RETURNS tsquery
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN (SELECT string_agg('''' || replace(replace(under || '/' || w, '\', '\\'), '''', '''''') || ''':*', ' & ')::tsquery
            FROM unnest(tsvector_to_array(to_tsvector('simple', typed))) AS w,
                 unnest(CASE WHEN of_kind IS NULL AND spoken IS NULL THEN ARRAY['any']
                             ELSE array_remove(ARRAY[of_kind, spoken], NULL) END) AS under);

ALTER TABLE events ADD COLUMN search tsvector NOT NULL
    GENERATED ALWAYS AS (event_search_vector(title, summary, kind, languages)) STORED;

-- (drafts too: a partial index would need the list's status condition to be used)
CREATE INDEX events_search_idx ON events USING gin (search);

-- Statistics of every token held by about 0.03 % of the events or more (the default keeps those of
-- 2.7 % or more). Below what it keeps, the planner takes any token for 0.5 % of the events (500 of
-- the 100,000 of `make soak`): too many to fetch one by one, so it added to the words' bitmap a scan
-- of every coming event in events_organisation_idx (10 ms), where the word has none or a hundred.
ALTER TABLE events ALTER COLUMN search SET STATISTICS 10000;
-- (the new column has none yet)
ANALYZE events;
