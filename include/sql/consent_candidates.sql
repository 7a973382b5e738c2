-- The granted consents that may carry today's planned mini-program reminders: same holder code (a
-- person's by its keyed digest: neither table keeps it in clear) or contact mobile (and department, where the consent names one); long-term first, then the oldest.
-- reserved: a message still on its way holds this one-time consent.
SELECT r.id AS reminder_id, c.id, c.openid, c.template_id, c.kind,
       CASE WHEN c.reserved_by IS NOT NULL AND EXISTS (
              SELECT 1 FROM outbox_message m
              WHERE m.id = c.reserved_by AND m.status IN ('pending', 'sending', 'unknown'))
            THEN 1 ELSE 0 END AS reserved
FROM reminder r
JOIN ledger l ON l.id = r.ledger_id
JOIN wechat_consent c ON c.status = 'granted'
  AND ((c.holder_code_digest IS NOT NULL AND c.holder_code_digest = l.holder_code_digest)
       OR (c.holder_code_digest IS NULL AND c.holder_code IS NOT NULL AND c.holder_code = l.holder_code)
       OR (c.contact_mobile IS NOT NULL AND c.contact_mobile = l.contact_mobile))
  AND (c.dept_code IS NULL OR c.dept_code = r.dept_code)
WHERE r.status = 'planned' AND r.channel = 'miniprogram'
ORDER BY r.id, CASE c.kind WHEN 'long_term' THEN 0 ELSE 1 END, c.granted_at, c.id
