-- How many licences of a department carry open warnings (of one rule, or of any).
SELECT COUNT(DISTINCT w.licence_no) FROM licence_warning w
WHERE w.dept_code = :dept_code AND w.resolved_at IS NULL AND (:rule IS NULL OR w.rule = :rule)
