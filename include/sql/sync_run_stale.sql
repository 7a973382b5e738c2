-- A department's runs still 'running' whose last sign of life (heartbeat, else start) is older
-- than :stale_before: their process was killed or lost the ledger before it could say so.
SELECT run_id, COALESCE(heartbeat_at, started_at) AS last_seen
FROM sync_run
WHERE dept_code = :dept_code AND status = 'running' AND run_id <> :run_id
  AND COALESCE(heartbeat_at, started_at) < :stale_before
