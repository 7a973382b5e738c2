-- Whether the ledger holds any licence of the department (before its first load it holds none).
SELECT 1 FROM ledger WHERE dept_code = :dept_code LIMIT 1
