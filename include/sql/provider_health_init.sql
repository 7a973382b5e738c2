-- A connection's health row, made once (healthy, switched on).
INSERT INTO sms_provider_health (conn_id, switched_off, updated_at) VALUES (:conn_id, FALSE, :now)
ON CONFLICT (conn_id) DO NOTHING
