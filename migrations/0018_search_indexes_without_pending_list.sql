-- The search's GIN indexes take each entry straight into their trees, not through a pending list.
--
-- With fastupdate, GIN's default, a row version written goes first to a list of pending entries
-- that every search reads whole, until VACUUM, or 4 MB of them (gin_pending_list_limit), moves
-- it into the tree. A busy event's row is written on every registration, for its seat counters.
-- An update that is HOT writes no index entry. Each one that is not (its page had no room for the
-- new version: 0019) puts the event's hundred or so words in the list. After the registration probe of `make soak`, the big database's list held 477
-- pages, and `q=Nopeschfest` took 2.1 ms a statement; 1.1 ms once gin_clean_pending_list had
-- emptied it. The small database's autovacuum had emptied its own after 250 updates of events;
-- the big one's waits for 20,050.
-- Events are written seldom and searched often: the case for which PostgreSQL's documentation
-- advises turning fastupdate off (GIN, "Tips and Tricks"). An event written costs 1 to 2 ms more.
ALTER INDEX events_search_idx SET (fastupdate = off);
ALTER INDEX events_search_webconference_idx SET (fastupdate = off);
ALTER INDEX events_search_conversation_table_idx SET (fastupdate = off);
ALTER INDEX events_search_info_session_idx SET (fastupdate = off);

-- turning it off leaves the entries already pending where they are
SELECT gin_clean_pending_list(index) FROM unnest(ARRAY[
    'events_search_idx', 'events_search_webconference_idx', 'events_search_conversation_table_idx',
    'events_search_info_session_idx'
]::regclass[]) AS index;
