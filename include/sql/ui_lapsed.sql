-- Licences that expired in [:date_from, :date_to] with no reminder a gateway accepted, and why
-- (v_expired_without_delivery), newest expiry first.
SELECT dept_code, licence_no, licence_name, expiry_date, entered_ledger_at, reason
FROM v_expired_without_delivery
WHERE expiry_date >= :date_from AND expiry_date <= :date_to
{% if dept %}
  AND dept_code = :dept
{% endif %}
ORDER BY expiry_date DESC, dept_code, licence_no
