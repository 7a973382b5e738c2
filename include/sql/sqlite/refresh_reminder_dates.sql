-- Reminder dates follow the catalogue: a changed lead time moves them for every licence.
UPDATE ledger
SET first_reminder_on = date(ledger.expiry_date, '-' || c.first_lead_days || ' days'),
    second_reminder_on = date(ledger.expiry_date, '-' || c.second_lead_days || ' days'),
    next_check_on = NULL
FROM catalogue_entry c
WHERE c.dept_code = ledger.dept_code AND c.licence_name = ledger.licence_name
  AND ledger.dept_code = :dept_code
  AND c.lead_rule IS NULL  -- calendar days; working-day leads: ledger_set_reminder_dates
  AND (ledger.first_reminder_on IS NULL OR ledger.second_reminder_on IS NULL
       OR ledger.first_reminder_on <> date(ledger.expiry_date, '-' || c.first_lead_days || ' days')
       OR ledger.second_reminder_on <> date(ledger.expiry_date, '-' || c.second_lead_days || ' days'))
