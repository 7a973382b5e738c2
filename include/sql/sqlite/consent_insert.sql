-- One consent from the intake API; (client, client_ref) is unique: a repeated request is ignored
-- here and answered with the stored row.
INSERT OR IGNORE INTO wechat_consent (client_id, client_ref, openid, template_id, kind, holder_code, holder_code_digest,
    contact_mobile, dept_code, source, status, granted_at, created_at, updated_at)
VALUES (:client_id, :client_ref, :openid, :template_id, :kind, :holder_code, :holder_code_digest, :contact_mobile,
    :dept_code, :source, 'granted', :granted_at, :now, :now)
