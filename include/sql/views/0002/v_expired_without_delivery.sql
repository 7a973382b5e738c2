-- Licences that expired (still valid, not renewed) with no reminder accepted by a gateway, and why.
CREATE VIEW v_expired_without_delivery AS
SELECT l.dept_code, l.licence_no, l.licence_name, l.expiry_date, l.created_at AS entered_ledger_at,
       CASE
         WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id
                        AND r.expiry_date = l.expiry_date AND r.status IN ('call_list', 'failed'))
           THEN 'sending failed: on the call list'
         WHEN EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id
                        AND r.expiry_date = l.expiry_date AND r.status IN ('planned', 'queued'))
           THEN 'reminder never sent (outside sending hours or gateway down)'
         WHEN l.renewal_applied_on IS NOT NULL THEN 'holder applied to renew: reminders stopped'
         WHEN DATE(l.created_at) > l.expiry_date THEN 'entered the ledger after expiry'
         WHEN NOT EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id
                            AND r.expiry_date = l.expiry_date)
           THEN 'never planned: no dispatch ran inside the reminder window'
         ELSE 'reminders cancelled'
       END AS reason
FROM ledger l
WHERE l.status = 'valid' AND l.vanished_at IS NULL AND l.expiry_date < CURRENT_DATE
  AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id
                    AND r.expiry_date = l.expiry_date AND r.status IN ('sent', 'delivered'))
