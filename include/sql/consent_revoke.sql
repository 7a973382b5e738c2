-- The holder withdrew: one consent (client_ref) or all of an openid's (to one template).
UPDATE wechat_consent
SET status = 'revoked', revoked_at = :now, revoked_reason = :reason, updated_at = :now
WHERE client_id = :client_id AND status = 'granted'
  AND (:client_ref IS NULL OR client_ref = :client_ref)
  AND (:openid IS NULL OR openid = :openid)
  AND (:template_id IS NULL OR template_id = :template_id)
