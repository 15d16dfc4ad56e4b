-- The words each kind of event holds, so that a search of one kind knows at once when none of that
-- kind holds its words: a common word the kind excludes (q=table with kind=webconference) was read
-- for in the list in order first, 128 web conferences on the big database of `make soak`, before
-- the index said there were none (server/events/service.py).
--
-- As event_search_lexemes (0015), every word any event of the kind ever held: a word of a changed
-- or deleted event stays, and matches nothing more. Events do not change kind (the API has no way
-- to), but if one did, the trigger below would still list its words under the new kind.

CREATE TABLE event_search_kind_lexemes (
    kind   text NOT NULL,
    lexeme text COLLATE "C" NOT NULL,
    PRIMARY KEY (kind, lexeme)
);

INSERT INTO event_search_kind_lexemes
SELECT DISTINCT kind, unnest(tsvector_to_array(search_words)) FROM events;

CREATE OR REPLACE FUNCTION events_keep_search_lexemes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO event_search_lexemes SELECT unnest(tsvector_to_array(NEW.search_words)) ON CONFLICT DO NOTHING;
    INSERT INTO event_search_kind_lexemes SELECT NEW.kind, unnest(tsvector_to_array(NEW.search_words))
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

DROP TRIGGER events_keep_search_lexemes_changed ON events;
-- not on the seat counters' updates, which leave the words and the kind as they are
CREATE TRIGGER events_keep_search_lexemes_changed AFTER UPDATE ON events
    FOR EACH ROW WHEN (NEW.search_words IS DISTINCT FROM OLD.search_words OR NEW.kind IS DISTINCT FROM OLD.kind)
    EXECUTE FUNCTION events_keep_search_lexemes();

-- event_search_index_query(typed) of 0015 among the words of one kind: NULL when a word typed
-- begins none of them, and then no event of that kind holds it.
CREATE FUNCTION event_search_index_query(typed text, of_kind text) RETURNS tsquery
    LANGUAGE sql STABLE PARALLEL SAFE
    RETURN (SELECT CASE WHEN bool_and(alternatives IS NOT NULL) THEN string_agg(alternatives, ' & ')::tsquery END
            FROM unnest(tsvector_to_array(to_tsvector('simple', typed))) AS typed_word,
                 LATERAL (SELECT CASE WHEN count(*) > 64
                                      THEN '''' || replace(replace(typed_word, '\', '\\'), '''', '''''') || ''':*'
                                      WHEN count(*) > 0
                                      THEN '(' || string_agg('''' || replace(replace(l.lexeme, '\', '\\'), '''', '''''') || '''',
                                                             ' | ') || ')' END AS alternatives
                          FROM (SELECT lexeme FROM event_search_kind_lexemes
                                WHERE kind = of_kind
                                  AND lexeme >= typed_word AND lexeme < typed_word || U&'\+10FFFF'
                                  AND starts_with(lexeme, typed_word)
                                LIMIT 65) AS l) AS expanded);
