-- History rows for the licences this run added to the ledger: what (an insert), when, which run.
-- They carry no values (new_values NULL) because the ledger row holds them: a row's values only
-- change through history_changed.sql, whose row keeps the values before the change as
-- old_values. So an auditor reconstructs any licence at any time T as the new_values of its last
-- change at or before T, else the old_values of its first change after T, else the ledger row
-- as it is now. A JSON copy of every new row (as before) doubled what a first load writes (about
-- 15 s of a 1,000,000-row load).
-- The rows are found by id, not by a join: ledger ids only grow, so the rows ledger_insert_new.sql
-- just made are this run's rows with an id above :max_id, the largest id before that statement
-- (another department's run may insert ids in between; it has another dept_code).
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT l.id, l.dept_code, l.licence_no, :run_id, 'insert', NULL, NULL, :now
FROM ledger l
WHERE l.id > :max_id AND l.dept_code = :dept_code AND l.created_run = :run_id
