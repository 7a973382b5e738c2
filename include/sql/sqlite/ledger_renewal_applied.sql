-- Renewal applications of the department's side table (source.renewals) onto the ledger: a date
-- the ledger lacks or holds otherwise; a date not given is the day of the run, kept after. The
-- row hash stays the licence row's (the side table is not part of it).
UPDATE ledger SET renewal_applied_on = COALESCE(r.applied_on, :today), next_check_on = NULL, updated_run = :run_id, updated_at = :now
FROM staging_renewal r
WHERE r.run_id = :run_id AND r.dept_code = :dept_code
  AND ledger.dept_code = r.dept_code AND ledger.licence_no = r.licence_no
  AND (ledger.renewal_applied_on IS NULL OR (r.applied_on IS NOT NULL AND r.applied_on <> ledger.renewal_applied_on))
