-- A department's rows now held in quarantine, newest first (cli quarantine).
SELECT q.licence_no, q.source_key, q.source_row, q.rules, q.reasons, q.raw_values, q.first_run_id, q.run_id,
       q.first_seen_at, q.last_seen_at
FROM quarantine q
WHERE q.dept_code = :dept_code AND q.resolved_at IS NULL
  AND (:rule IS NULL OR q.rules LIKE :rule_like)
ORDER BY q.last_seen_at DESC, q.id
LIMIT :limit
