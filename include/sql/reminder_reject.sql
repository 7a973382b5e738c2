-- A reminder whose message cannot be sent as is (e.g. over the provider's length cap).
UPDATE reminder SET status = 'call_list', status_reason = :reason, updated_at = :now
WHERE id = :reminder_id AND status = 'planned'
