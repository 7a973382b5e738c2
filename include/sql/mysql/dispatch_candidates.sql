-- Licences that may need a reminder on :today: valid, present in the source, expiring within the
-- longest lead time (plus slack for holidays), with their reminder dates, catalogue lead times and
-- channel policy.
-- MariaDB's own plan drives from the few catalogue rows into each department's whole range of
-- the ledger's unique key (or a rowid filter on it): 1.8-3 s over a 990,000-row ledger here,
-- against 0.2 s through the expiry index, which selects the days ahead.
SELECT l.id, l.dept_code, l.licence_no, l.cycle, l.expiry_date, l.status, l.vanished_at,
       l.renewal_applied_on, l.first_reminder_on, l.second_reminder_on,
       c.first_lead_days, c.second_lead_days, c.channels
FROM ledger l FORCE INDEX (ix_ledger_expiry)
JOIN catalogue_entry c ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name
WHERE l.status = 'valid' AND l.vanished_at IS NULL
  AND l.expiry_date >= :today AND l.expiry_date <= :horizon
  -- only cycles with something to decide: its first reminder day (moved at most 30 days earlier
  -- to a working day, policy.effective) has come, or it holds reminders (the policy may cancel
  -- them); the rest of the horizon is read but never sent to the planner
  AND (l.first_reminder_on IS NULL OR l.first_reminder_on <= :first_by
       OR EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id AND r.expiry_date = l.expiry_date))
