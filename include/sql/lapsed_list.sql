-- Licence cycles that expired without a warning that reached the holder, and why
-- (v_expired_without_delivery), newest expiry first; one department (or all, NULL).
SELECT dept_code, licence_no, licence_name, expiry_date, source, reason, detail
FROM v_expired_without_delivery
WHERE (:dept_code IS NULL OR dept_code = :dept_code)
  AND (:since IS NULL OR expiry_date >= :since)
ORDER BY expiry_date DESC, dept_code, licence_no
LIMIT :limit
