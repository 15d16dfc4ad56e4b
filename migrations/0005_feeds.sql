-- iCal feeds (issue 5): calendar apps poll every feed for years, so a poll must cost nearly
-- nothing and a feed is built once per change of its content, whichever app process is asked.
--
-- 1. A feed's version is read from its rows' ids and `updated_at`, so every change of what a feed
--    shows must move `updated_at`. The service sets it; this trigger makes it a rule of the table:
--    any change other than the seat counters (and the row version they bump) moves it, also from
--    code that forgets. Seat counts must not move it: a registration changes no public feed.
-- 2. Each app process remembers the versions it computed; NOTIFY on `zesummen_feeds` tells every
--    process (they LISTEN) that feed content may have changed, so they ask the database again.
-- 3. `feed_versions` is shared by the processes: for each feed the version last seen, since when
--    (the Last-Modified every process answers with) and, for public feeds, the built body. Only
--    feeds with a bounded set of names are kept: none with free text or instants in their query.

CREATE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
       AND to_jsonb(NEW) - '{seats_taken,waitlist_length,row_version,updated_at}'::text[]
           IS DISTINCT FROM to_jsonb(OLD) - '{seats_taken,waitlist_length,row_version,updated_at}'::text[] THEN
        -- clock_timestamp, not now(): a second change in one transaction must still move it
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_touch_updated_at BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_touch_updated_at();

CREATE FUNCTION feeds_notify_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- PostgreSQL sends one notice per transaction for identical ones, after the commit
    PERFORM pg_notify('zesummen_feeds', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER events_feeds_insert_delete AFTER INSERT OR DELETE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_notify_change();
CREATE TRIGGER events_feeds_update AFTER UPDATE ON events
    FOR EACH ROW WHEN (OLD.updated_at IS DISTINCT FROM NEW.updated_at) EXECUTE FUNCTION feeds_notify_change();
-- an organisation's name is in its feed's name; a series' rule is in the public feeds
CREATE TRIGGER organisations_feeds AFTER INSERT OR UPDATE OR DELETE ON organisations
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_notify_change();
CREATE TRIGGER series_feeds AFTER INSERT OR UPDATE OR DELETE ON series
    FOR EACH STATEMENT EXECUTE FUNCTION feeds_notify_change();

CREATE TABLE feed_versions (
    feed_key       text PRIMARY KEY,
    -- a digest of the feed's rows (ids, updated_at, organisation names) and of what was asked
    version        text NOT NULL,
    -- when this version was first seen: the feed's Last-Modified, whole seconds, always growing
    last_modified  timestamptz NOT NULL,
    -- the built feed; NULL for personal feeds, whose content is kept out of shared storage
    body           bytea,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
-- versions not renewed for long are dropped (feeds/queries.py FORGET_OLD_VERSIONS)
CREATE INDEX feed_versions_recorded_idx ON feed_versions (recorded_at);
