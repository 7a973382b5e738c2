-- The cycles of one catalogue entry whose channel policy changed since the planner last applied
-- it (catalogue_entry.checked_channels): every valid cycle whose first reminder day is due by
-- :due_by, or that holds reminders (a channel dropped from the policy cancels its pending ones).
SELECT l.id, l.dept_code, l.licence_no, l.cycle, l.expiry_date, l.status, l.vanished_at,
       l.renewal_applied_on, l.first_reminder_on, l.second_reminder_on,
       l.updated_at, l.next_check_on,
       c.first_lead_days, c.second_lead_days, c.channels
FROM ledger l
JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
WHERE l.dept_code = :dept_code AND l.licence_name = :licence_name
  AND l.status = 'valid' AND l.vanished_at IS NULL AND l.expiry_date >= :today
  AND (l.first_reminder_on IS NULL OR l.first_reminder_on <= :due_by
       OR EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id AND r.expiry_date = l.expiry_date))
