-- A department's prompts changed after the cursor, in the order of the changes.
SELECT id, reminder_id, dept_code, licence_no, licence_name, holder_name, holder_code, stage,
       expiry_date, apply_by, title, body, body_sha256, status, closed_reason, feed_seq, created_at,
       served_at, acknowledged_at
FROM business_prompt
WHERE dept_code = :dept_code AND feed_seq > :cursor
ORDER BY feed_seq
LIMIT :limit
