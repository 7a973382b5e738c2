-- One department's ledger figures for the summary (figures.py), in one pass: its licences per
-- status, still in the source or not, and expiry date (the summary adds up the valid ones
-- expiring within a year of the day it is asked; its open entries: figures_open.sql). Scoped to
-- the department: read from ix_ledger_dept_figures alone (0026).
SELECT status, CASE WHEN vanished_at IS NULL THEN 1 ELSE 0 END AS present, expiry_date,
       COUNT(*) AS licences
FROM ledger
WHERE dept_code = :dept_code
GROUP BY status, CASE WHEN vanished_at IS NULL THEN 1 ELSE 0 END, expiry_date
