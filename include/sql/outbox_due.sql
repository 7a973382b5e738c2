-- Messages of one shard ready to go now.
SELECT id, dept_code, gateway_conn_id, recipient, recipient_masked, template_code, params,
       body_sha256, attempts, created_at
FROM outbox_message
WHERE status = 'pending' AND shard = :shard
  AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
ORDER BY created_at, id
LIMIT :limit
