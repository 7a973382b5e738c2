-- A connection's health row, made once (healthy, switched on).
INSERT IGNORE INTO sms_provider_health (conn_id, switched_off, updated_at) VALUES (:conn_id, FALSE, :now)
