-- The reminder dates of a department's licences of one entry and expiry date, worked out from
-- working-day leads (leads.refresh_ledger_dates); rows already right are not written.
UPDATE ledger SET first_reminder_on = :first_on, second_reminder_on = :second_on,
    next_check_on = NULL
WHERE dept_code = :dept_code AND licence_name = :licence_name AND expiry_date = :expiry_date
  AND (first_reminder_on IS NULL OR second_reminder_on IS NULL
       OR first_reminder_on <> :first_on OR second_reminder_on <> :second_on)
