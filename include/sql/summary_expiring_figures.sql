-- Per department: valid licences expiring between :today and :until, from the expiry
-- histograms taken at the syncs (summary_expiring.sql's figure).
SELECT dept_code, SUM(licences) AS licences
FROM department_expiry_figures
WHERE expiry_date >= :today AND expiry_date < :until
GROUP BY dept_code
