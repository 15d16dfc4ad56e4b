-- Each interpreter's held missions per month and languages, kept by triggers, for ranking candidates cheaply.
--
-- The candidates of a request are ranked by their missions in the request's month first. Counting
-- them per fitting interpreter (0035's index), then probing each one's hours, days off and busy
-- missions, is work that grows with the pool: 133 of 500 interpreters all probed where 50 are
-- shown, 2.45 ms against 0.47 for a pool of 20, 2.53 times its p99 over HTTP (make soak,
-- bench/bench_interpretation.py). With the month's load read from this table, the fitting
-- interpreters are put in order first and probed in that order until 50 are found. Which ones speak
-- the pair at a fitting level is read from one column of theirs (`speaks`, {code: level}) instead of
-- two rows of interpreter_languages each (0.4 of the query's 1.6 ms on that pool).
--
-- The row trigger follows every change that moves a held mission ('assigned' or 'done') in or out
-- of an interpreter's month: assigned, cancelled, handed to another interpreter, moved to another
-- month, recorded done (held before and after: no change), deleted with its organisation. The
-- month is Luxembourg's, as the candidates query has it. Increments are upserts, so two first
-- missions of one month cannot both insert; the two rows of a move are touched in key order, so
-- two moves in opposite directions wait for each other instead of deadlocking.

CREATE TABLE interpreter_months (
    interpreter_id  bigint NOT NULL REFERENCES interpreters ON DELETE CASCADE,
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    missions        integer NOT NULL CHECK (missions >= 0),
    PRIMARY KEY (interpreter_id, month)
);

CREATE FUNCTION interpretation_mission_month(starts_at timestamptz) RETURNS date
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    RETURN date_trunc('month', starts_at AT TIME ZONE 'Europe/Luxembourg')::date;

CREATE FUNCTION interpreter_months_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was_id bigint;
    was_month date;
    now_id bigint;
    now_month date;
BEGIN
    IF TG_OP <> 'INSERT' AND OLD.status IN ('assigned', 'done') THEN
        was_id := OLD.interpreter_id;
        was_month := interpretation_mission_month(OLD.starts_at);
    END IF;
    IF TG_OP <> 'DELETE' AND NEW.status IN ('assigned', 'done') THEN
        now_id := NEW.interpreter_id;
        now_month := interpretation_mission_month(NEW.starts_at);
    END IF;
    IF was_id IS NOT DISTINCT FROM now_id AND was_month IS NOT DISTINCT FROM now_month THEN
        RETURN NULL;
    END IF;
    IF now_id IS NOT NULL AND (was_id IS NULL OR (now_id, now_month) < (was_id, was_month)) THEN
        INSERT INTO interpreter_months AS c (interpreter_id, month, missions) VALUES (now_id, now_month, 1)
        ON CONFLICT (interpreter_id, month) DO UPDATE SET missions = c.missions + 1;
        now_id := NULL;
    END IF;
    IF was_id IS NOT NULL THEN
        UPDATE interpreter_months SET missions = missions - 1 WHERE interpreter_id = was_id AND month = was_month;
    END IF;
    IF now_id IS NOT NULL THEN
        INSERT INTO interpreter_months AS c (interpreter_id, month, missions) VALUES (now_id, now_month, 1)
        ON CONFLICT (interpreter_id, month) DO UPDATE SET missions = c.missions + 1;
    END IF;
    RETURN NULL;
END
$$;

-- no mission changes while the counts are taken and the trigger put in place
LOCK TABLE interpretation_missions IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER interpreter_months_follow_insert AFTER INSERT ON interpretation_missions
    FOR EACH ROW WHEN (NEW.status IN ('assigned', 'done')) EXECUTE FUNCTION interpreter_months_follow();
CREATE TRIGGER interpreter_months_follow_update AFTER UPDATE OF status, interpreter_id, starts_at
    ON interpretation_missions
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.interpreter_id IS DISTINCT FROM NEW.interpreter_id
                       OR OLD.starts_at IS DISTINCT FROM NEW.starts_at)
    EXECUTE FUNCTION interpreter_months_follow();
CREATE TRIGGER interpreter_months_follow_delete AFTER DELETE ON interpretation_missions
    FOR EACH ROW WHEN (OLD.status IN ('assigned', 'done')) EXECUTE FUNCTION interpreter_months_follow();

INSERT INTO interpreter_months (interpreter_id, month, missions)
SELECT interpreter_id, interpretation_mission_month(starts_at), count(*)
FROM interpretation_missions WHERE status IN ('assigned', 'done')
GROUP BY 1, 2;

-- the languages an interpreter speaks, {code: level}, as interpreter_languages has them
ALTER TABLE interpreters ADD COLUMN speaks jsonb NOT NULL DEFAULT '{}';

CREATE FUNCTION interpreters_speaks_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who bigint;
BEGIN
    FOREACH who IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.interpreter_id]
                                    WHEN 'DELETE' THEN ARRAY[OLD.interpreter_id]
                                    ELSE ARRAY[NEW.interpreter_id, OLD.interpreter_id] END LOOP
        -- locked first: the languages are then read with another transaction's change to them committed
        PERFORM 1 FROM interpreters WHERE id = who FOR UPDATE;
        UPDATE interpreters
        SET speaks = coalesce(
            (SELECT jsonb_object_agg(code, level) FROM interpreter_languages WHERE interpreter_id = who), '{}')
        WHERE id = who;
    END LOOP;
    RETURN NULL;
END
$$;

LOCK TABLE interpreter_languages IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER interpreters_speaks_follow AFTER INSERT OR UPDATE OR DELETE ON interpreter_languages
    FOR EACH ROW EXECUTE FUNCTION interpreters_speaks_follow();

UPDATE interpreters i
SET speaks = (SELECT jsonb_object_agg(code, level) FROM interpreter_languages WHERE interpreter_id = i.id)
WHERE EXISTS (SELECT 1 FROM interpreter_languages WHERE interpreter_id = i.id);
