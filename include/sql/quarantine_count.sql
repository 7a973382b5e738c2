-- How many of a department's rows are in quarantine now (cli quarantine's heading).
SELECT COUNT(*) FROM quarantine q
WHERE q.dept_code = :dept_code AND q.resolved_at IS NULL
  AND (:rule IS NULL OR q.rules LIKE :rule_like)
