-- Interpretation asked for at an event (issue 24 point 7): staff turn the languages registrants asked
-- for into missions from the event's back-office page. The mission remembers its event, so the page
-- shows which languages are already asked for, and one event never gets two live missions for one
-- language, even when two staff members (or a double click) ask at once: the unique index decides.
ALTER TABLE interpretation_missions ADD COLUMN event_id bigint REFERENCES events ON DELETE SET NULL;
CREATE UNIQUE INDEX interpretation_missions_one_per_event_language
    ON interpretation_missions (event_id, to_language) WHERE event_id IS NOT NULL AND status <> 'cancelled';
