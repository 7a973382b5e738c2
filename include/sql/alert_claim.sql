-- One sender of an alert at a time: a claim older than :stale is a sender that died.
UPDATE alert SET claimed_at = :now
WHERE id = :id AND sent_at IS NULL AND (claimed_at IS NULL OR claimed_at < :stale)
