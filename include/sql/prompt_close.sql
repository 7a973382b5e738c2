UPDATE business_prompt
SET status = :status, closed_reason = :reason, feed_seq = :seq, updated_at = :now
WHERE id = :id AND status = 'open'
