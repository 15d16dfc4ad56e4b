-- Activity reports (issue 25): the ministry's conventions name domains of activity per partner
-- (ASTI: accompaniment of communes, direct oral interpretation, Guichet Info-Migrants; Caritas:
-- Accueil, Centre Oasis; ...), and each partner accounts for its activity domain by domain.
--
-- 1. An organisation lists its domains; events, commune requests and interpretation missions are
--    tagged with one of them (or none). The foreign keys name the organisation too, so PostgreSQL
--    itself refuses a domain of another organisation.
-- 2. A report counts the distinct people reached over a year, but a registration's address is wiped
--    90 days after its event (the privacy job, 0012). `person_key` keeps a 64-bit hash of the
--    address, set when the row is written and left alone by anonymisation: enough to tell two
--    registrations of one person apart from two people, and no address to read or write to.

CREATE TABLE organisation_domains (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    organisation_id  bigint NOT NULL REFERENCES organisations ON DELETE CASCADE,
    slug             text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    position         integer NOT NULL DEFAULT 0,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organisation_id, slug),
    UNIQUE (organisation_id, id)
);

ALTER TABLE events ADD COLUMN domain_id bigint;
ALTER TABLE events ADD CONSTRAINT events_domain_of_organisation
    FOREIGN KEY (organisation_id, domain_id) REFERENCES organisation_domains (organisation_id, id);

ALTER TABLE commune_requests ADD COLUMN domain_id bigint;
ALTER TABLE commune_requests ADD CONSTRAINT commune_requests_domain_of_organisation
    FOREIGN KEY (organisation_id, domain_id) REFERENCES organisation_domains (organisation_id, id);
CREATE INDEX commune_requests_report_idx ON commune_requests (organisation_id, created_at);

ALTER TABLE interpretation_missions ADD COLUMN domain_id bigint;
ALTER TABLE interpretation_missions ADD CONSTRAINT interpretation_missions_domain_of_organisation
    FOREIGN KEY (organisation_id, domain_id) REFERENCES organisation_domains (organisation_id, id);

ALTER TABLE registrations ADD COLUMN person_key bigint;
UPDATE registrations SET person_key = hashtextextended(email, 0) WHERE email IS NOT NULL;

CREATE FUNCTION registrations_person_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.email IS NOT NULL THEN
        NEW.person_key := hashtextextended(NEW.email, 0);
    END IF;
    RETURN NEW;
END
$$;

-- anonymisation sets the address to NULL, which keeps the key (only a new address replaces it)
CREATE TRIGGER registrations_person_key BEFORE INSERT OR UPDATE OF email ON registrations
    FOR EACH ROW EXECUTE FUNCTION registrations_person_key();
