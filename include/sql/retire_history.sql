-- History rows for a retired department's licences: each leaves the reminders as a vanished one.
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT l.id, l.dept_code, l.licence_no, :run_id, 'vanish', NULL, NULL, :now
FROM ledger l
WHERE l.dept_code = :dept_code AND l.vanished_at IS NULL
