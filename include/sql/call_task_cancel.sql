-- A call task no longer needed (renewal applied, licence renewed, revoked or gone, a later SMS
-- delivered, expired unworked): closed, saying why. Only while nobody has closed it.
UPDATE call_task SET status = 'cancelled', closed_reason = :reason, closed_at = :now, updated_at = :now
WHERE id = :id AND status IN ('open', 'retry')
