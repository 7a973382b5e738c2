-- Every SMS gateway connection's shared health: read by each sender at each claim.
SELECT conn_id, cooldown_until, tripped_at, reason, switched_off, switched_by, switched_at, switch_reason,
       updated_at
FROM sms_provider_health
ORDER BY conn_id
