-- WeChat says the consent is gone (43101) or names another app's openid (40003): revoked.
UPDATE wechat_consent
SET status = 'revoked', revoked_at = :now, revoked_reason = :reason, updated_at = :now
WHERE id = :consent_id AND status = 'granted'
  AND EXISTS (SELECT 1 FROM outbox_message m WHERE m.id = :message_id AND m.status = 'call_list')
