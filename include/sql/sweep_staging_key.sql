-- A department's staged rows of runs that are over (published, or failed for good) and whose own
-- clean-up never ran: swept when the department's next run starts.
DELETE FROM staging_key
WHERE dept_code = :dept_code
  AND run_id IN (SELECT run_id FROM sync_run WHERE dept_code = :dept_code AND status <> 'running')
