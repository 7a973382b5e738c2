-- A department's entries that left quarantine, newest first (cli quarantine --resolved):
-- resolution 'fixed' (seen valid) or 'gone' (a full run no longer read the row at all).
SELECT q.licence_no, q.source_key, q.source_row, q.rules, q.reasons, q.raw_values, q.first_run_id,
       q.run_id, q.first_seen_at, q.last_seen_at, q.resolved_at, q.resolved_run_id, q.resolution
FROM quarantine q
WHERE q.dept_code = :dept_code AND q.resolved_at IS NOT NULL
  AND (:rule IS NULL OR q.rules LIKE :rule_like)
ORDER BY q.resolved_at DESC, q.id
LIMIT :limit
