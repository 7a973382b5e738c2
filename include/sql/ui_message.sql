-- One outbox message as the delivery log shows it: contacts masked, the text as its hash.
SELECT id, dept_code, channel, gateway, gateway_conn_id, recipient_masked, template_name,
       template_code, body_sha256, body_length, segments, status, attempts, provider_message_id,
       last_code, last_message, run_id, created_at, sent_at, updated_at
FROM outbox_message WHERE id = :id
