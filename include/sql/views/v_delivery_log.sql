-- Who was reminded of what, when, through which channel and gateway, with what result:
-- one row per gateway call (or provider look-up) and licence. Contacts masked; text as a hash.
-- gateway_conn_id: the gateway connection of the row (NULL before 0021); detail: a failover's
-- "from … to …" (docs/sms-providers.md).
CREATE VIEW v_delivery_log AS
SELECT a.id AS attempt_id, a.started_at, a.finished_at, a.dept_code, r.licence_no, r.stage,
       r.expiry_date, a.channel, a.gateway, a.gateway_conn_id, a.kind, a.attempt_no, a.outcome,
       a.response_code, a.http_status, a.provider_message_id, a.request_id, a.recipient_masked,
       a.body_sha256, a.message_id, a.run_id, a.detail
FROM delivery_attempt a
LEFT JOIN reminder r ON r.message_id = a.message_id
