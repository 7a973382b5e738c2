-- Cancel one pending reminder (policy decision), keeping the reason.
UPDATE reminder SET status = 'cancelled', status_reason = :reason, updated_at = :now
WHERE ledger_id = :ledger_id AND expiry_date = :expiry_date AND stage = :stage AND channel = :channel
  AND status IN ('planned', 'queued')
