-- Messages of one shard ready to go now. Only those written today: a message states its days
-- left and deadline as of the day it was written, so one left from an earlier day waits to be
-- written again by the next render (outbox_supersede_stale.sql), never sent stale.
SELECT id, dept_code, channel, consent_id, gateway_conn_id, recipient, recipient_masked, template_name,
       template_code, params, body, body_sha256, attempts, created_at
FROM outbox_message
WHERE status = 'pending' AND shard = :shard
  AND (next_attempt_at IS NULL OR next_attempt_at <= :now)
  AND created_at >= :today_start
ORDER BY created_at, id
LIMIT :limit
