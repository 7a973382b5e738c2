-- What the ledger holds for a department, to stage only rows whose content changed.
SELECT licence_no, row_hash, vanished_at FROM ledger WHERE dept_code = :dept_code
