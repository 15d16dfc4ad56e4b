-- A number that grows with every update of an event row, whatever the column. The public list
-- keeps localised renderings keyed by it; updated_at cannot serve, as it stays the same for two
-- updates in one transaction and some updates (seat counts) must not touch it.
ALTER TABLE events ADD COLUMN row_version bigint NOT NULL DEFAULT 1;

CREATE FUNCTION events_bump_row_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.row_version := OLD.row_version + 1;
    RETURN NEW;
END
$$;

CREATE TRIGGER events_row_version BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_bump_row_version();
