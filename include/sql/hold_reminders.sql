-- Reminders kept planned by the departments held for stale data.
SELECT COUNT(*) FROM reminder r
WHERE r.status = 'planned' AND EXISTS (SELECT 1 FROM dispatch_hold h WHERE h.open_key = r.dept_code)
