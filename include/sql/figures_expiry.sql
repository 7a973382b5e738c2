-- One department's valid licences still in the source, per expiry date: the summary adds up
-- those expiring within a year of the day it is asked (ix_ledger_dept_figures, in its order).
SELECT expiry_date, COUNT(*) AS licences
FROM ledger
WHERE dept_code = :dept_code AND status = 'valid' AND vanished_at IS NULL
GROUP BY expiry_date
