-- Licences of a department whose status changed from valid during the quarter's runs (revoked,
-- cancelled), counted by the new status; the runs are found by ui_review_runs.sql's bounds.
SELECT {{ new_status }} AS new_status, COUNT(*) AS n
FROM ledger_history h
WHERE h.run_id IN (SELECT s.run_id FROM sync_run s
                   WHERE s.dept_code = :dept AND s.started_at >= :day_start AND s.started_at < :day_end)
  AND h.change_kind = 'update'
  AND {{ old_status }} = 'valid' AND {{ new_status }} IN ('revoked', 'cancelled')
GROUP BY {{ new_status }}
