-- A reminder withdrawn because its licence was revoked, cancelled or gone from the source
-- (reminders_cancel_stale.sql), planned again now that the same licence cycle is valid again.
-- (policy.WITHDRAWN_REASONS names these reasons.)
UPDATE reminder
SET status = 'planned', status_reason = 'reopened: the licence is valid again', message_id = NULL,
    due_on = :due_on, planned_run = :run_id, updated_at = :now
WHERE ledger_id = :ledger_id AND expiry_date = :expiry_date AND stage = :stage
  AND channel = :channel AND status = 'cancelled'
  AND status_reason IN ('licence revoked', 'licence cancelled', 'licence no longer in the source')
