-- Reminder dates follow the catalogue: a changed lead time moves them for every licence.
UPDATE ledger l
JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
SET l.first_reminder_on = DATE_SUB(l.expiry_date, INTERVAL c.first_lead_days DAY),
    l.second_reminder_on = DATE_SUB(l.expiry_date, INTERVAL c.second_lead_days DAY),
    l.next_check_on = NULL
WHERE l.dept_code = :dept_code
  AND c.lead_rule IS NULL  -- calendar days; working-day leads: ledger_set_reminder_dates
  AND (l.first_reminder_on IS NULL OR l.second_reminder_on IS NULL
       OR l.first_reminder_on <> DATE_SUB(l.expiry_date, INTERVAL c.first_lead_days DAY)
       OR l.second_reminder_on <> DATE_SUB(l.expiry_date, INTERVAL c.second_lead_days DAY))
