-- A prompt reminder nobody acknowledged before the licence expired.
UPDATE reminder SET status = 'failed', status_reason = :reason, updated_at = :now
WHERE id = :id AND status = 'queued'
