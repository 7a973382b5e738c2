-- Renewals this run found: a licence whose expiry date moved later starts a new cycle.
SELECT COUNT(*) FROM ledger_history
WHERE run_id = :run_id AND dept_code = :dept_code AND change_kind = 'renewal'
