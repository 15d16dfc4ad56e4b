-- Interpretation offers carry a deadline (issue 24, behaviour 3): if nobody accepts a mission by the
-- deadlines of its offers, the staff of its organisation are alerted once and the mission shows it.
--   answer_by: until when an interpreter may accept; existing offers get a day from when they were
--              made, never after the mission starts.
--   unanswered_at: when the housekeeping job found every offer of the mission unanswered and past its
--              deadline (and alerted staff); cleared when staff offer the mission again. Setting it is
--              what makes the alert happen once, whichever notifier copy runs the job.
-- Also audited: staff's changes to interpreters (issue 24's pool kept by staff).

ALTER TABLE interpretation_offers ADD COLUMN answer_by timestamptz;
UPDATE interpretation_offers f SET answer_by = least(f.created_at + interval '24 hours', m.starts_at)
FROM interpretation_missions m WHERE m.id = f.mission_id;
ALTER TABLE interpretation_offers ALTER COLUMN answer_by SET NOT NULL;
-- the job's search: open offers by deadline
CREATE INDEX interpretation_offers_due_idx ON interpretation_offers (answer_by) WHERE status = 'offered';

ALTER TABLE interpretation_missions ADD COLUMN unanswered_at timestamptz;

-- an interpreter taken out of the pool keeps their missions but gets no offer nor candidacy
ALTER TABLE interpreters ADD COLUMN active boolean NOT NULL DEFAULT true;
