-- The figures of the annual rule-of-law assessment (R8), per department and year of expiry: each
-- licence cycle (a renewal closes one and opens the next), whether it was reminded (an SMS a
-- gateway accepted, a mini-program message WeChat accepted, an in-system prompt a business system
-- acknowledged, or a phone call that reached the holder), whether a reminder was delivered,
-- whether it was renewed before expiry or lapsed, and unreminded.
-- {old_expiry} is the dialect's way to read the expiry date a renewal replaced (migration 0004).
CREATE VIEW v_assessment_yearly AS
SELECT c.dept_code, SUBSTR(CAST(c.expiry_date AS CHAR(10)), 1, 4) AS year,
       COUNT(*) AS licence_cycles,
       SUM(CASE WHEN c.expiry_date < CURRENT_DATE THEN 1 ELSE 0 END) AS expired_to_date,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.status IN ('sent', 'delivered'))
                  OR EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = c.ledger_id
                               AND t.expiry_date = c.expiry_date AND t.outcome LIKE 'reached%')
                THEN 1 ELSE 0 END) AS reminded,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.status = 'delivered')
                THEN 1 ELSE 0 END) AS reminder_delivered,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = c.ledger_id
                               AND t.expiry_date = c.expiry_date AND t.outcome LIKE 'reached%')
                THEN 1 ELSE 0 END) AS reached_by_phone,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.channel = 'miniprogram'
                               AND r.status IN ('sent', 'delivered'))
                THEN 1 ELSE 0 END) AS reached_by_miniprogram,
       SUM(CASE WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                               AND r.expiry_date = c.expiry_date AND r.channel = 'prompt'
                               AND r.status = 'delivered')
                THEN 1 ELSE 0 END) AS acknowledged_in_system,
       SUM(CASE WHEN c.renewed_on <= c.expiry_date THEN 1 ELSE 0 END) AS renewed_before_expiry,
       SUM(CASE WHEN c.renewed_on > c.expiry_date THEN 1 ELSE 0 END) AS renewed_after_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on <= c.expiry_date THEN 1 ELSE 0 END)
           AS applied_before_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on IS NULL AND c.expiry_date < CURRENT_DATE
                THEN 1 ELSE 0 END) AS lapsed,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on IS NULL AND c.expiry_date < CURRENT_DATE
                 AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = c.ledger_id
                                   AND r.expiry_date = c.expiry_date AND r.status IN ('sent', 'delivered'))
                 AND NOT EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = c.ledger_id
                                   AND t.expiry_date = c.expiry_date AND t.outcome LIKE 'reached%')
                THEN 1 ELSE 0 END) AS lapsed_unreminded
FROM (
    SELECT h.dept_code, h.ledger_id, {old_expiry} AS expiry_date, DATE(h.changed_at) AS renewed_on,
           NULL AS applied_on
    FROM ledger_history h
    WHERE h.change_kind = 'renewal'
    UNION ALL
    SELECT l.dept_code, l.id, l.expiry_date, NULL, l.renewal_applied_on
    FROM ledger l
    WHERE l.status = 'valid' AND l.vanished_at IS NULL
) c
GROUP BY c.dept_code, SUBSTR(CAST(c.expiry_date AS CHAR(10)), 1, 4)
