-- Per department: valid licences expiring between :today and :until (each is reminded at most twice).
SELECT dept_code, COUNT(*) AS licences
FROM ledger
WHERE status = 'valid' AND vanished_at IS NULL AND expiry_date >= :today AND expiry_date < :until
GROUP BY dept_code
