-- Call tasks for people: the licence, its holder and contact, why SMS failed, the department's
-- service phone, the latest outcome. Filters are optional (NULL: all). Soonest expiry first.
SELECT t.id, t.dept_code, d.name AS dept_name, t.licence_no, l.licence_name, l.holder_name,
       l.contact_name, l.contact_mobile, t.expiry_date, t.stage, t.due_on, t.reason_code, t.reason,
       t.status, t.outcome, t.outcomes, t.next_try_on, t.closed_reason, t.created_at, t.updated_at,
       c.service_phone
FROM call_task t
JOIN ledger l ON l.id = t.ledger_id
JOIN department d ON d.code = t.dept_code
LEFT JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
WHERE (:dept_code IS NULL OR t.dept_code = :dept_code)
  AND (:open_only = 0 OR t.status IN ('open', 'retry'))
  AND (:due_before IS NULL OR COALESCE(t.next_try_on, t.due_on) <= :due_before)
  AND (:task_id IS NULL OR t.id = :task_id)
ORDER BY t.expiry_date, t.id
LIMIT :limit OFFSET :offset
