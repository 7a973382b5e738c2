-- One department's ledger figures for the summary (figures.py): its licences, its open
-- quarantine entries and its licences with open warnings. Scoped to the department: the ledger
-- is read from ix_ledger_dept_figures alone (0026), the others through their department indexes.
SELECT COUNT(*) AS in_ledger,
       COUNT(CASE WHEN vanished_at IS NULL AND status = 'revoked' THEN 1 END) AS revoked,
       COUNT(CASE WHEN vanished_at IS NULL AND status = 'cancelled' THEN 1 END) AS cancelled,
       COUNT(vanished_at) AS vanished,
       (SELECT COUNT(*) FROM quarantine
        WHERE dept_code = :dept_code AND resolved_at IS NULL) AS in_quarantine,
       (SELECT COUNT(DISTINCT licence_no) FROM licence_warning
        WHERE dept_code = :dept_code AND resolved_at IS NULL) AS with_warnings
FROM ledger
WHERE dept_code = :dept_code
