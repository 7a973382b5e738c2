-- Per department: valid licences expiring between :today and :until (each is reminded at most twice).
-- One sequential pass over the ledger: MariaDB's own choice, the unique key in department order
-- (or the expiry index), fetches each row at random, slower than reading them all once a ledger
-- outgrows the buffer pool (scripts/bench_scale.py).
SELECT dept_code, COUNT(*) AS licences
FROM ledger IGNORE INDEX (uq_ledger_licence, ix_ledger_expiry)
WHERE status = 'valid' AND vanished_at IS NULL AND expiry_date >= :today AND expiry_date < :until
GROUP BY dept_code
