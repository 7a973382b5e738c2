-- The operator's switch. Switching on also ends a cool-down: the operator says the provider is back.
UPDATE sms_provider_health
SET switched_off = :off, switched_by = :by, switched_at = :now, switch_reason = :reason,
    cooldown_until = CASE WHEN :off THEN cooldown_until END, updated_at = :now
WHERE conn_id = :conn_id
