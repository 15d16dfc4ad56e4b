-- The privacy job (registrations/service.py anonymise_due) looked for the registrations to
-- anonymise among every registration not anonymised yet: on 1,000,000 registrations (`make soak`)
-- that took 0.7 s every 30 seconds and read 175,000 pages, pushing busy ones out of the cache.
--
-- An event now says since when all its registrations are anonymised, which the job sets once it
-- has done them; the job then only looks at events that ended long enough ago and are not done
-- yet, a handful. A registration added to a done event afterwards (organisers may add people to
-- a past event) makes it not done again: the job marks events under their row lock, which every
-- registration takes, and the trigger below covers any other way in.

ALTER TABLE events ADD COLUMN registrations_anonymised_at timestamptz;

CREATE INDEX events_to_anonymise_idx ON events (ends_at) WHERE registrations_anonymised_at IS NULL;

CREATE FUNCTION registrations_reopen_anonymisation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET registrations_anonymised_at = NULL
    WHERE id IN (SELECT event_id FROM new_rows) AND registrations_anonymised_at IS NOT NULL;
    RETURN NULL;
END
$$;

CREATE TRIGGER registrations_reopen_anonymisation
    AFTER INSERT ON registrations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registrations_reopen_anonymisation();

-- that mark is no change of the event's content: feeds and their versions do not move for it (0005)
CREATE OR REPLACE FUNCTION events_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
       AND to_jsonb(NEW) - '{seats_taken,waitlist_length,row_version,updated_at,registrations_anonymised_at}'::text[]
           IS DISTINCT FROM
           to_jsonb(OLD) - '{seats_taken,waitlist_length,row_version,updated_at,registrations_anonymised_at}'::text[] THEN
        -- clock_timestamp, not now(): a second change in one transaction must still move it
        NEW.updated_at := greatest(clock_timestamp(), OLD.updated_at + interval '1 microsecond');
    END IF;
    RETURN NEW;
END
$$;
