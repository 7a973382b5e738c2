-- Reminder coverage of a department's licence cycles expiring in [:first_day, :last_day], as
-- v_assessment_yearly counts them (a renewal closes a cycle and opens the next): cycles, expired to
-- date, reminded (a reminder a gateway accepted), delivered, renewed before / after expiry,
-- renewal applied for before expiry, lapsed, and lapsed with no reminder.
SELECT COUNT(*) AS cycles,
       SUM(CASE WHEN c.expiry_date < :today THEN 1 ELSE 0 END) AS expired_to_date,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.status IN ('sent', 'delivered'))
                THEN 1 ELSE 0 END) AS reminded,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.status = 'delivered')
                THEN 1 ELSE 0 END) AS delivered,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.status IN ('call_list', 'failed'))
                THEN 1 ELSE 0 END) AS on_call_list,
       SUM(CASE WHEN c.renewed_on <= c.expiry_date THEN 1 ELSE 0 END) AS renewed_before_expiry,
       SUM(CASE WHEN c.renewed_on > c.expiry_date THEN 1 ELSE 0 END) AS renewed_after_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on <= c.expiry_date THEN 1 ELSE 0 END)
           AS applied_before_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on IS NULL AND c.expiry_date < :today
                THEN 1 ELSE 0 END) AS lapsed
FROM (
    SELECT h.ledger_id, {{ old_expiry }} AS expiry_date, DATE(h.changed_at) AS renewed_on,
           NULL AS applied_on
    FROM ledger_history h
    WHERE h.dept_code = :dept AND h.change_kind = 'renewal'
      AND {{ old_expiry }} >= :first_day AND {{ old_expiry }} <= :last_day
    UNION ALL
    SELECT l.id, l.expiry_date, NULL, l.renewal_applied_on
    FROM ledger l
    WHERE l.dept_code = :dept AND l.expiry_date >= :first_day AND l.expiry_date <= :last_day
      AND l.status = 'valid' AND l.vanished_at IS NULL
) c
