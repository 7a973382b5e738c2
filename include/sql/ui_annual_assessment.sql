-- The annual assessment of one department, by year of expiry: v_assessment_yearly's figures,
-- computed so that a department's page does not read every licence of the city. The view asks,
-- for each licence cycle, up to six correlated questions of reminder and call_task (1.7-2.7 s for
-- a department of 100,000 licences on a 1,000,000-licence ledger); here each table is read once
-- for the department — reminders through ix_reminder_dept_cycle (migration 0016) — grouped by
-- cycle, and joined to the cycles by key. A cycle listed twice (as the view's union could) counts
-- twice, as in the view.
SELECT {% if dialect == "sqlite" %}SUBSTR(c.expiry_date, 1, 4){% else %}YEAR(c.expiry_date){% endif %} AS year,
       COUNT(*) AS licence_cycles,
       SUM(CASE WHEN c.expiry_date < CURRENT_DATE THEN 1 ELSE 0 END) AS expired_to_date,
       SUM(CASE WHEN s.sms IS NOT NULL OR p.ledger_id IS NOT NULL THEN 1 ELSE 0 END) AS reminded,
       SUM(CASE WHEN s.sms = 2 THEN 1 ELSE 0 END) AS reminder_delivered,
       SUM(CASE WHEN p.ledger_id IS NOT NULL THEN 1 ELSE 0 END) AS reached_by_phone,
       SUM(CASE WHEN s.miniprogram = 1 THEN 1 ELSE 0 END) AS reached_by_miniprogram,
       SUM(CASE WHEN s.prompt = 1 THEN 1 ELSE 0 END) AS acknowledged_in_system,
       SUM(CASE WHEN c.renewed_on <= c.expiry_date THEN 1 ELSE 0 END) AS renewed_before_expiry,
       SUM(CASE WHEN c.renewed_on > c.expiry_date THEN 1 ELSE 0 END) AS renewed_after_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on <= c.expiry_date THEN 1 ELSE 0 END)
           AS applied_before_expiry,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on IS NULL AND c.expiry_date < CURRENT_DATE
                THEN 1 ELSE 0 END) AS lapsed,
       SUM(CASE WHEN c.renewed_on IS NULL AND c.applied_on IS NULL AND c.expiry_date < CURRENT_DATE
                 AND s.sms IS NULL AND p.ledger_id IS NULL THEN 1 ELSE 0 END) AS lapsed_unreminded
FROM (
    SELECT h.ledger_id,
           {% if dialect == "sqlite" %}json_extract(h.old_values, '$.expiry_date'){% else %}CAST(JSON_VALUE(h.old_values, '$.expiry_date') AS DATE){% endif %} AS expiry_date,
           DATE(h.changed_at) AS renewed_on, NULL AS applied_on
    FROM ledger_history h
    WHERE h.dept_code = :dept AND h.change_kind = 'renewal'
    UNION ALL
    SELECT l.id, l.expiry_date, NULL, l.renewal_applied_on
    FROM ledger l
    WHERE l.dept_code = :dept AND l.status = 'valid' AND l.vanished_at IS NULL
) c
-- per cycle: 2 when a reminder was delivered, 1 when one was only accepted by a gateway (any
-- channel); whether the mini-program's went out, whether a business system acknowledged a prompt
LEFT JOIN (
    SELECT r.ledger_id, r.expiry_date, MAX(CASE WHEN r.status = 'delivered' THEN 2 ELSE 1 END) AS sms,
           MAX(CASE WHEN r.channel = 'miniprogram' THEN 1 ELSE 0 END) AS miniprogram,
           MAX(CASE WHEN r.channel = 'prompt' AND r.status = 'delivered' THEN 1 ELSE 0 END) AS prompt
    FROM reminder r
    WHERE r.dept_code = :dept AND r.status IN ('sent', 'delivered')
    GROUP BY r.ledger_id, r.expiry_date
) s ON s.ledger_id = c.ledger_id AND s.expiry_date = c.expiry_date
-- per cycle: a phone call reached the holder
LEFT JOIN (
    SELECT DISTINCT t.ledger_id, t.expiry_date
    FROM call_task t
    WHERE t.dept_code = :dept AND t.outcome LIKE 'reached%'
) p ON p.ledger_id = c.ledger_id AND p.expiry_date = c.expiry_date
GROUP BY {% if dialect == "sqlite" %}SUBSTR(c.expiry_date, 1, 4){% else %}YEAR(c.expiry_date){% endif %}
ORDER BY year
