-- Append-only audit of every call to a gateway (and every look-up after a doubt).
INSERT INTO delivery_attempt (message_id, attempt_no, kind, dept_code, channel, gateway, gateway_conn_id,
    started_at, finished_at, outcome, response_code, http_status, provider_message_id, request_id,
    recipient_masked, body_sha256, run_id, detail)
VALUES (:message_id, :attempt_no, :kind, :dept_code, :channel, :gateway, :gateway_conn_id, :started_at,
    :finished_at, :outcome, :response_code, :http_status, :provider_message_id, :request_id,
    :recipient_masked, :body_sha256, :run_id, :detail)
