-- Shown to the holder, the business system says: acknowledged once.
UPDATE business_prompt
SET status = 'acknowledged', acknowledged_at = :now, acknowledged_by = :by, feed_seq = :seq, updated_at = :now
WHERE id = :id AND dept_code = :dept_code AND status = 'open'
