-- History rows for licences a full reconciliation no longer finds in the source.
INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, new_values, changed_at)
SELECT l.id, l.dept_code, l.licence_no, :run_id, 'vanish', NULL, NULL, :now
FROM ledger l
JOIN staging_key k ON k.dept_code = l.dept_code AND k.licence_no = l.licence_no
WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind = 'vanished'
  AND l.vanished_at IS NULL
