-- A sender saw the connection fail past the threshold: every sender steps over it until :until
-- (a later cool-down another sender set already is kept).
UPDATE sms_provider_health
SET cooldown_until = :until, tripped_at = :now, reason = :reason, updated_at = :now
WHERE conn_id = :conn_id AND (cooldown_until IS NULL OR cooldown_until < :until)
