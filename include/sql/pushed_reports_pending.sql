-- Pushed reports not applied yet, with the SMS they name (by our id, else by the provider's id):
-- no message yet, or one not recorded as sent yet, leaves the report pending. Two joins, not one
-- with OR: each then finds its message by an index.
SELECT p.id AS report_id, p.receiver, p.delivered, p.code, p.provider_message_id AS reported_id,
       p.received_at, o.id, o.dept_code, o.channel, o.gateway, o.recipient_masked, o.body_sha256,
       o.attempts, o.status
FROM pushed_report p
LEFT JOIN outbox_message o ON o.id = p.out_id AND o.channel = 'sms'
WHERE p.state = 'pending' AND p.out_id IS NOT NULL
UNION ALL
SELECT p.id AS report_id, p.receiver, p.delivered, p.code, p.provider_message_id AS reported_id,
       p.received_at, o.id, o.dept_code, o.channel, o.gateway, o.recipient_masked, o.body_sha256,
       o.attempts, o.status
FROM pushed_report p
LEFT JOIN outbox_message o ON o.provider_message_id = p.provider_message_id AND o.channel = 'sms'
WHERE p.state = 'pending' AND p.out_id IS NULL
ORDER BY report_id
