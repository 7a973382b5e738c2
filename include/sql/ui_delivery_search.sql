-- The delivery log's search: messages written in [:date_from, :date_to), newest first, with the
-- optional filters the search names. The licences of each message: ui_delivery_licences.sql.
SELECT m.id, m.dept_code, m.created_at, m.sent_at, m.status, m.recipient_masked, m.template_name,
       m.gateway, m.attempts, m.last_code, m.provider_message_id, m.body_sha256
FROM outbox_message m
WHERE m.created_at >= :date_from AND m.created_at < :date_to
{% if dept %}
  AND m.dept_code = :dept
{% endif %}
{% if status %}
  AND m.status = :status
{% endif %}
{% if mobile %}
  AND m.recipient_masked = :mobile
{% endif %}
{% if licence %}
  AND m.id IN (SELECT r.message_id FROM reminder r WHERE r.licence_no = :licence)
{% endif %}
ORDER BY m.created_at DESC, m.id DESC
{% if limit %}
LIMIT :limit OFFSET :offset
{% endif %}
