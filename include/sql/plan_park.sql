-- Cycles in the planning's range that it does not look at — revoked, cancelled, gone from the
-- source, expired — wait for a sync to change them (which sets next_check_on back to NULL)
-- instead of being read again every day.
UPDATE ledger SET next_check_on = :never
WHERE (next_check_on IS NULL OR next_check_on <= :due_by)
  AND (status <> 'valid' OR vanished_at IS NOT NULL OR expiry_date < :today)
