-- The cycles the day's planning must look at (ledger.next_check_on, migration 0025): those no
-- planning has looked at since a sync wrote them (NULL) and those whose next reminder day is due
-- by :due_by (Policy.due_through); valid, present in the source, not expired. The catalogue
-- entry is joined for its lead times and channel policy (an entry since removed gives NULLs).
-- Through the next-check index: one range (NULLs sort first), the day's work.
SELECT l.id, l.dept_code, l.licence_no, l.cycle, l.expiry_date, l.status, l.vanished_at,
       l.renewal_applied_on, l.first_reminder_on, l.second_reminder_on,
       l.updated_at, l.next_check_on,
       c.first_lead_days, c.second_lead_days, c.channels
FROM ledger l FORCE INDEX (ix_ledger_next_check)
LEFT JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
WHERE (l.next_check_on IS NULL OR l.next_check_on <= :due_by)
  AND l.status = 'valid' AND l.vanished_at IS NULL AND l.expiry_date >= :today
