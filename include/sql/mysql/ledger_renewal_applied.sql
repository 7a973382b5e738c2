-- Renewal applications of the department's side table (source.renewals) onto the ledger: a date
-- the ledger lacks or holds otherwise; a date not given is the day of the run, kept after. The
-- row hash stays the licence row's (the side table is not part of it). Driven by the run's few
-- staged rows, through their index (see ledger_status_from_rejected.sql).
UPDATE staging_renewal r FORCE INDEX (ix_staging_renewal_run)
STRAIGHT_JOIN ledger l ON l.dept_code = r.dept_code AND l.licence_no = r.licence_no
SET l.renewal_applied_on = COALESCE(r.applied_on, :today), l.next_check_on = NULL, l.updated_run = :run_id, l.updated_at = :now
WHERE r.run_id = :run_id AND r.dept_code = :dept_code
  AND (l.renewal_applied_on IS NULL OR (r.applied_on IS NOT NULL AND r.applied_on <> l.renewal_applied_on))
