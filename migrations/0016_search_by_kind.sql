-- The words and filters of the public search once more, one index per kind of event.
--
-- In the index of 0015, a common word that a kind excludes ("table", which only conversation
-- tables hold, among the web conferences) still cost 2.2 ms on 100,000 events: GIN walked both
-- lists, 58,800 events of the word and 18,200 of the kind, which interleave in every page and so
-- cannot be skipped. In an index of the web conferences alone the word is simply not there
-- (0.15 ms). A plan made for the kind asked uses these (the search's fallback is, events/service.py);
-- a generic plan, which cannot tell the kind, still has the kind in the index of 0015.
-- The kinds are the three of the CHECK on events.kind: a fourth needs its own index here.
CREATE INDEX events_search_webconference_idx ON events USING gin (search_words, languages, commune, organisation_id)
    WHERE status <> 'draft' AND kind = 'webconference';
CREATE INDEX events_search_conversation_table_idx ON events USING gin (search_words, languages, commune, organisation_id)
    WHERE status <> 'draft' AND kind = 'conversation_table';
CREATE INDEX events_search_info_session_idx ON events USING gin (search_words, languages, commune, organisation_id)
    WHERE status <> 'draft' AND kind = 'info_session';
