-- Big data (issue 7): with 100,000 events and 1,000,000 registrations, the public list, the
-- organisers' list of a big event and a person's feed read what they show, not the whole table.
-- `make soak` (bench/bench_bigdata.py) measured each against a small database; the plans are in
-- bench/bigdata-plans.txt.
--
-- 1. An event lasts at most 31 days: events/service.py refused longer ones already, now the table
--    does too. The public list relies on it: an event that ends after an instant starts after that
--    instant minus 31 days, which bounds its index scan to what is still to come instead of every
--    event that ever ended (65,000 of them on the big database: 0.7 s for the first page).
--    The public list's index covers what its filters read (all but `q`), so that the ended events
--    of the last 31 days are passed over in the index alone; it replaces events_public_list_idx,
--    whose keys and condition it has.
-- 2. The commune filter of the public list reads one commune's events in start order (before: a
--    sequential scan of events, 3 s).
-- 3. An organiser pages through an event's registrations in id order: (event_id, id) reads the page
--    itself, where the primary key skipped every other event's rows (37 s in a generic plan).
-- 4. A person's feed (/api/registrations/{token}/calendar.ics) gathers their registrations by
--    address: the only index with the address had it second, after the event (50 ms a poll).

ALTER TABLE events ADD CONSTRAINT events_last_at_most_31_days CHECK (ends_at <= starts_at + interval '31 days');

CREATE INDEX events_public_page_idx ON events (starts_at, id) INCLUDE (ends_at, kind, organisation_id, commune, languages)
    WHERE status <> 'draft';
DROP INDEX events_public_list_idx;

CREATE INDEX events_commune_list_idx ON events (commune, starts_at, id)
    WHERE status <> 'draft' AND commune IS NOT NULL;

CREATE INDEX registrations_event_order_idx ON registrations (event_id, id);

CREATE INDEX registrations_email_idx ON registrations (email) WHERE email IS NOT NULL;
