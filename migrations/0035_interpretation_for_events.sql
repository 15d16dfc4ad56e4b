-- Interpretation asked for at an event (issue 24 point 7): staff turn the languages registrants asked
-- for into missions from the event's back-office page. The mission remembers its event, so the page
-- shows which languages are already asked for, and one event never gets two live missions for one
-- language, even when two staff members (or a double click) ask at once: the unique index decides.
ALTER TABLE interpretation_missions ADD COLUMN event_id bigint REFERENCES events ON DELETE SET NULL;
CREATE UNIQUE INDEX interpretation_missions_one_per_event_language
    ON interpretation_missions (event_id, to_language) WHERE event_id IS NOT NULL AND status <> 'cancelled';

-- The candidates of a request count each interpreter's held missions in the request's month. With
-- only the exclusion constraints' GiST indexes (interpreter, time range) and the organisation's
-- (organisation, start), PostgreSQL ANDed two bitmaps per interpreter, reading the whole month of the
-- agency each time: 19 ms for 500 interpreters and 50,000 missions, 3.1 times the p99 of a pool of 20
-- (make soak, bench/bench_interpretation.py). This index reads only the interpreter's month.
CREATE INDEX interpretation_missions_held_by_interpreter_idx
    ON interpretation_missions (interpreter_id, starts_at) WHERE status IN ('assigned', 'done');
