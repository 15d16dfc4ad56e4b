-- The events running at a moment (started, not ended), found by their time range: the public list
-- begins with them (server/events/queries.py), and without this index it had to pass over every
-- event of the month before that had already ended.
CREATE INDEX events_running_idx ON events USING gist (tstzrange(starts_at, ends_at))
    WHERE status <> 'draft';
