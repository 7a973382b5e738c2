-- Messages claimed but never recorded (a crash between the gateway call and the record, or a
-- timeout after the request left): the provider is asked what happened, never sent again blind.
SELECT id, dept_code, channel, consent_id, gateway_conn_id, recipient, recipient_masked, template_code, params,
       body_sha256, attempts, created_at, updated_at, status, claim_epoch
FROM outbox_message
WHERE status IN ('sending', 'unknown') AND shard = :shard
