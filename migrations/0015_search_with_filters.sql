-- A search whose filters exclude its words (q=table with kind=webconference: no web conference is a
-- conversation table) is answered from one index, without reading events.
--
-- Reading the list in order finds too few such events, so the search asks the indexes
-- (server/events/service.py). The word's index gave most of the events, and the kind's index
-- (0014) gave every coming web conference: 6,000 rows read to find none, 18 ms on the big database
-- of `make soak` against 4 ms on the small one. A search on the spoken language had no index at all
-- (q=vivre with spoken=pt: 104 ms against 5.6). Now one GIN index holds the words with the list's
-- filters, and the index scan intersects them before it reads a row.
--
-- 1. btree_gin lets a GIN index hold the kind, the commune and the organisation (plain values)
--    beside the words; the spoken languages are an array, which GIN holds as it is. btree_gin is
--    a contrib extension, trusted since PostgreSQL 13: a database owner may create it.
-- 2. Intersecting is fast only for whole words. A word typed is the beginning of a word
--    ('table':*), and GIN gathers every event holding any word with that beginning into a bitmap
--    first: 17 ms for "table" among the web conferences, against 2.6 ms for the whole word
--    'table'. So the words typed are expanded to the whole words that begin with them, from a
--    list of every word of every event (kept by a trigger), before the index is asked. A beginning
--    shared by more than 64 words ("a") stays a beginning: it is too common to be asked of the
--    index in the first place (server/events/search.py).

CREATE EXTENSION IF NOT EXISTS btree_gin;

-- every word any event ever held; words of changed or deleted events stay: they match nothing more.
-- COLLATE "C" orders them by their bytes, so that the words beginning with one are a range.
CREATE TABLE event_search_lexemes (lexeme text COLLATE "C" PRIMARY KEY);

INSERT INTO event_search_lexemes SELECT DISTINCT unnest(tsvector_to_array(search_words)) FROM events;

CREATE FUNCTION events_keep_search_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_search_lexemes SELECT unnest(tsvector_to_array(NEW.search_words)) ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_keep_search_lexemes_new AFTER INSERT ON events
    FOR EACH ROW EXECUTE FUNCTION events_keep_search_lexemes();
-- not on the seat counters' updates, which leave the words as they are
CREATE TRIGGER events_keep_search_lexemes_changed AFTER UPDATE ON events
    FOR EACH ROW WHEN (NEW.search_words IS DISTINCT FROM OLD.search_words)
    EXECUTE FUNCTION events_keep_search_lexemes();

-- What a person typed, as event_search_query (0010) but each word replaced by the whole words that
-- begin with it ('tab' becomes 'table' | 'tableau'): it matches the same events. NULL (nothing)
-- when a word typed begins no word. STABLE: it reads the list of words, with the statement's
-- snapshot, which sees the words of every event the statement sees. The range "from the word to
-- the word and the last character" holds every word beginning with it but those whose next
-- character is that last one, U+10FFFF, which Unicode reserves as a non-character.
CREATE FUNCTION event_search_index_query(typed text) RETURNS tsquery
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT CASE WHEN bool_and(alternatives IS NOT NULL) THEN string_agg(alternatives, ' & ')::tsquery END
            FROM unnest(tsvector_to_array(to_tsvector('simple', typed))) AS typed_word,
                 LATERAL (SELECT CASE WHEN count(*) > 64
                                      THEN '''' || replace(replace(typed_word, '\', '\\'), '''', '''''') || ''':*'
                                      WHEN count(*) > 0
                                      THEN '(' || string_agg('''' || replace(replace(l.lexeme, '\', '\\'), '''', '''''') || '''',
                                                             ' | ') || ')' END AS alternatives
                          FROM (SELECT lexeme FROM event_search_lexemes
                                WHERE lexeme >= typed_word AND lexeme < typed_word || U&'\+10FFFF'
                                  AND starts_with(lexeme, typed_word)
                                LIMIT 65) AS l) AS expanded);

-- the words with the filters the list can intersect them with (its spoken filter is written
-- languages @> ARRAY[...], which this index answers); it replaces the words' index of 0013, and
-- the kind's index of 0014, which nothing else used
CREATE INDEX events_search_idx ON events USING gin (search_words, kind, languages, commune, organisation_id)
    WHERE status <> 'draft';
DROP INDEX events_search_words_idx;
DROP INDEX events_kind_list_idx;
