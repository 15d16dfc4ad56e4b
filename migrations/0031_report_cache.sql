-- A year's report of an organisation (issue 25) read every registration of its events: 70 ms on a
-- tenth of the big database of `make soak`, against 20 ms on the small one, and it grows with the
-- registrations. Most reports are asked for again and again over data that no longer moves (a past
-- year, the quarter just ended), so a computed report is kept, and used while nothing it counts
-- has changed:
--
-- 1. `report_versions` holds one number per organisation, raised in the same transaction as any
--    change a report counts: a registration or a join at an event that has started, an event that
--    has started (or had), a commune request, an interpretation mission, a domain, the
--    organisation's name. Registrations to events still to come (the hot path) raise nothing: a
--    report only counts events that have started, so they change none. Statement triggers, so a
--    statement of many rows raises each organisation's number once.
-- 2. `report_cache` keeps a report by organisation and period, with the number it was computed at
--    and the instant it counts up to (`as_of`). It is used while the number is the same and no
--    event of the organisation has started since `as_of` within its period or the year before.

CREATE TABLE report_versions (
    organisation_id  bigint PRIMARY KEY REFERENCES organisations ON DELETE CASCADE,
    version          bigint NOT NULL DEFAULT 1
);

CREATE TABLE report_cache (
    organisation_id  bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    first_day        date NOT NULL,
    last_day         date NOT NULL,
    version          bigint NOT NULL,
    as_of            timestamptz NOT NULL,
    body             bytea NOT NULL,
    computed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, first_day, last_day)
);

CREATE FUNCTION report_raise_versions(organisation_ids bigint[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO report_versions (organisation_id)
    -- (an organisation being deleted, whose rows go with it, has no report left to raise)
    SELECT DISTINCT o FROM unnest(organisation_ids) o WHERE EXISTS (SELECT 1 FROM organisations WHERE id = o)
    ORDER BY o  -- one lock order for every statement, against deadlocks between two of them
    ON CONFLICT (organisation_id) DO UPDATE SET version = report_versions.version + 1
$$;

-- registrations: only those of events that have started count in a report
CREATE FUNCTION registrations_raise_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT e.organisation_id) INTO touched
        FROM old_rows r JOIN events e ON e.id = r.event_id WHERE e.starts_at <= now();
    ELSE
        SELECT array_agg(DISTINCT e.organisation_id) INTO touched
        FROM new_rows r JOIN events e ON e.id = r.event_id WHERE e.starts_at <= now();
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM report_raise_versions(touched);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER registrations_insert_raise_report_versions AFTER INSERT ON registrations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registrations_raise_report_versions();
CREATE TRIGGER registrations_update_raise_report_versions AFTER UPDATE ON registrations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registrations_raise_report_versions();
CREATE TRIGGER registrations_delete_raise_report_versions AFTER DELETE ON registrations
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registrations_raise_report_versions();

CREATE FUNCTION registration_joins_raise_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM report_raise_versions(array_agg(DISTINCT e.organisation_id))
    FROM new_rows j JOIN registrations r ON r.id = j.registration_id JOIN events e ON e.id = r.event_id
    WHERE e.starts_at <= now();
    RETURN NULL;
END
$$;
CREATE TRIGGER registration_joins_insert_raise_report_versions AFTER INSERT ON registration_joins
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registration_joins_raise_report_versions();

-- events: the organisation of every event a statement touched that has started, before or after the change
CREATE FUNCTION events_raise_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM new_rows WHERE starts_at <= now();
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM old_rows WHERE starts_at <= now();
    ELSE
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM (
            SELECT organisation_id, starts_at FROM new_rows UNION ALL SELECT organisation_id, starts_at FROM old_rows
        ) changed WHERE starts_at <= now();
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM report_raise_versions(touched);
    END IF;
    RETURN NULL;
END
$$;

-- commune requests, missions, domains: the organisation of every row a statement touched
CREATE FUNCTION rows_raise_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM old_rows;
    ELSE
        SELECT array_agg(DISTINCT organisation_id) INTO touched FROM (
            SELECT organisation_id FROM new_rows UNION ALL SELECT organisation_id FROM old_rows
        ) changed;
    END IF;
    IF touched IS NOT NULL THEN
        PERFORM report_raise_versions(touched);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER events_insert_raise_report_versions AFTER INSERT ON events
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION events_raise_report_versions();
CREATE TRIGGER events_update_raise_report_versions AFTER UPDATE ON events
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION events_raise_report_versions();
CREATE TRIGGER events_delete_raise_report_versions AFTER DELETE ON events
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION events_raise_report_versions();

CREATE TRIGGER commune_requests_insert_raise_report_versions AFTER INSERT ON commune_requests
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER commune_requests_update_raise_report_versions AFTER UPDATE ON commune_requests
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER commune_requests_delete_raise_report_versions AFTER DELETE ON commune_requests
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();

CREATE TRIGGER interpretation_missions_insert_raise_report_versions AFTER INSERT ON interpretation_missions
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER interpretation_missions_update_raise_report_versions AFTER UPDATE ON interpretation_missions
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER interpretation_missions_delete_raise_report_versions AFTER DELETE ON interpretation_missions
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();

CREATE TRIGGER organisation_domains_insert_raise_report_versions AFTER INSERT ON organisation_domains
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER organisation_domains_update_raise_report_versions AFTER UPDATE ON organisation_domains
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();
CREATE TRIGGER organisation_domains_delete_raise_report_versions AFTER DELETE ON organisation_domains
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION rows_raise_report_versions();

-- the organisation's name is in its reports
CREATE FUNCTION organisations_raise_report_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM report_raise_versions(array_agg(id)) FROM new_rows;
    RETURN NULL;
END
$$;
CREATE TRIGGER organisations_update_raise_report_versions AFTER UPDATE ON organisations
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION organisations_raise_report_versions();
