-- The languages' trigger (0041) locks the interpreter before reading their languages again, so that two
-- transactions changing one interpreter's languages take turns and the last one's `speaks` is complete.
-- It took FOR UPDATE, which also waits for and holds back every FOR KEY SHARE of the row: the foreign-key
-- check of a mission assigned to the interpreter, or of an offer made to them, while staff were changing
-- their languages. FOR NO KEY UPDATE makes the changes take turns just as well (it conflicts with itself)
-- and lets those checks through, as the UPDATE of `speaks` that follows it does anyway.

CREATE OR REPLACE FUNCTION interpreters_speaks_follow() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    who bigint;
BEGIN
    FOREACH who IN ARRAY CASE TG_OP WHEN 'INSERT' THEN ARRAY[NEW.interpreter_id]
                                    WHEN 'DELETE' THEN ARRAY[OLD.interpreter_id]
                                    ELSE ARRAY[NEW.interpreter_id, OLD.interpreter_id] END LOOP
        -- locked first: the languages are then read with another transaction's change to them committed
        PERFORM 1 FROM interpreters WHERE id = who FOR NO KEY UPDATE;
        UPDATE interpreters
        SET speaks = coalesce(
            (SELECT jsonb_object_agg(code, level) FROM interpreter_languages WHERE interpreter_id = who), '{}')
        WHERE id = who;
    END LOOP;
    RETURN NULL;
END
$$;
