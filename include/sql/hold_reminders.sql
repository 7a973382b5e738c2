-- Reminders kept planned, per department held for stale data.
SELECT r.dept_code, COUNT(*) AS reminders FROM reminder r
WHERE r.status = 'planned' AND EXISTS (SELECT 1 FROM dispatch_hold h WHERE h.open_key = r.dept_code)
GROUP BY r.dept_code
