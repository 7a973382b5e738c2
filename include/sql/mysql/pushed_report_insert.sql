-- A pushed report, kept before anything else: a second push of it (providers retry) is not kept again.
INSERT INTO pushed_report (provider, receiver, message_key, out_id, provider_message_id, delivered, code,
    recipient_masked, reported_at, received_at, state)
VALUES (:provider, :receiver, :message_key, :out_id, :provider_message_id, :delivered, :code,
    :recipient_masked, :reported_at, :received_at, 'pending')
ON DUPLICATE KEY UPDATE id = id
