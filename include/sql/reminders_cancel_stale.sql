-- Reminders not yet sent whose licence changed under them: renewed (new expiry date, new cycle),
-- revoked or cancelled, or gone from the source. (Renewal applications: see policy.py; the last
-- three reasons are policy.WITHDRAWN_REASONS: the reminder is planned again if the licence is.)
UPDATE reminder
SET status = 'cancelled',
    status_reason = (SELECT CASE
                              WHEN l.expiry_date > reminder.expiry_date THEN 'renewed: expiry date moved'
                              WHEN l.expiry_date < reminder.expiry_date THEN 'expiry date corrected to an earlier one'
                              WHEN l.status = 'revoked' THEN 'licence revoked'
                              WHEN l.status = 'cancelled' THEN 'licence cancelled'
                              ELSE 'licence no longer in the source' END
                     FROM ledger l WHERE l.id = reminder.ledger_id),
    updated_at = :now
WHERE dept_code = :dept_code AND status IN ('planned', 'queued')
  AND EXISTS (SELECT 1 FROM ledger l
              WHERE l.id = reminder.ledger_id
                AND (l.expiry_date <> reminder.expiry_date OR l.status <> 'valid'
                     OR l.vanished_at IS NOT NULL))
