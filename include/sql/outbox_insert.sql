-- The outbox row is written BEFORE the gateway is called: its id is the provider's OutId.
INSERT INTO outbox_message (id, dept_code, channel, gateway, gateway_conn_id, recipient,
    recipient_masked, template_name, template_code, params, body, body_sha256, body_length,
    segments, status, shard, attempts, run_id, created_at, updated_at)
VALUES (:id, :dept_code, :channel, :gateway, :gateway_conn_id, :recipient, :recipient_masked,
    :template_name, :template_code, :params, :body, :body_sha256, :body_length, :segments,
    :status, :shard, :attempts, :run_id, :now, :now)
