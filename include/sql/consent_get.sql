-- A consent by the intake caller's own id of it.
SELECT id, client_ref, openid, template_id, kind, holder_code, holder_code_digest, contact_mobile, dept_code, source,
       status, granted_at, used_at, revoked_at, revoked_reason
FROM wechat_consent WHERE client_id = :client_id AND client_ref = :client_ref
