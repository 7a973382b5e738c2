-- How many licences lapsed without a reminder in [:date_from, :date_to], per department and reason.
SELECT dept_code, reason, COUNT(*) AS n
FROM v_expired_without_delivery
WHERE expiry_date >= :date_from AND expiry_date <= :date_to
{% if dept %}
  AND dept_code = :dept
{% endif %}
GROUP BY dept_code, reason
ORDER BY dept_code, n DESC
