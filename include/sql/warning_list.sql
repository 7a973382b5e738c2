-- A department's loaded licences with open data-quality warnings: which rule, since when. Newest
-- first; one rule (or all, NULL).
SELECT w.licence_no, w.rule, w.column_name, w.message, w.first_seen_at, w.first_run_id, w.last_seen_at,
       l.licence_name, l.expiry_date
FROM licence_warning w
LEFT JOIN ledger l ON l.dept_code = w.dept_code AND l.licence_no = w.licence_no
WHERE w.dept_code = :dept_code AND w.resolved_at IS NULL
  AND (:rule IS NULL OR w.rule = :rule)
ORDER BY w.first_seen_at DESC, w.licence_no, w.rule
LIMIT :limit
