-- A mini-program message, written BEFORE WeChat is called, with the consent it goes under.
INSERT INTO outbox_message (id, dept_code, channel, gateway, gateway_conn_id, recipient,
    recipient_masked, template_name, template_code, params, body, body_sha256, body_length,
    segments, status, shard, attempts, consent_id, run_id, created_at, updated_at)
VALUES (:id, :dept_code, :channel, :gateway, :gateway_conn_id, :recipient, :recipient_masked,
    :template_name, :template_code, :params, :body, :body_sha256, :body_length, :segments,
    :status, :shard, :attempts, :consent_id, :run_id, :now, :now)
