-- SMS a gateway accepted lately whose carrier report (delivered or not) is not in yet (WeChat
-- reports nothing on a subscribe message: its acceptance is the last word).
SELECT id, dept_code, channel, gateway_conn_id, recipient, recipient_masked, template_code, params,
       body_sha256, attempts, sent_at
FROM outbox_message
WHERE status = 'sent' AND sent_at >= :since AND channel = 'sms'
ORDER BY sent_at, id
