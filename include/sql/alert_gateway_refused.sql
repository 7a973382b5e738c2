-- Gateway connections whose messages wait because the provider refused the account: pending
-- messages whose latest send attempt was refused (the pending queue is small: ix_outbox_status),
-- and how many of the connection's messages wait with them.
SELECT m.gateway_conn_id, MAX(a.response_code) AS code,
       (SELECT COUNT(*) FROM outbox_message p
        WHERE p.status = 'pending' AND p.gateway_conn_id = m.gateway_conn_id) AS messages
FROM outbox_message m
JOIN delivery_attempt a ON a.message_id = m.id AND a.kind = 'send' AND a.attempt_no = m.attempts
WHERE m.status = 'pending' AND a.outcome = 'refused'
GROUP BY m.gateway_conn_id
