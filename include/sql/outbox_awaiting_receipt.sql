-- Messages a gateway accepted lately whose carrier report (delivered or not) is not in yet.
SELECT id, dept_code, gateway_conn_id, recipient, recipient_masked, template_code, params,
       body_sha256, attempts, sent_at
FROM outbox_message
WHERE status = 'sent' AND sent_at >= :since
ORDER BY sent_at, id
