-- Every licence cycle whose expiry passed without a warning that reached the holder — no SMS a
-- gateway accepted, no phone call that reached them — with the true reason; and the licences that
-- expired while their records were held in quarantine, out of the ledger. One row per cycle.
-- source: 'ledger' or 'quarantine'; detail: why SMS failed, the rules a quarantined row broke.
CREATE VIEW v_expired_without_delivery AS
SELECT l.dept_code, l.licence_no, l.licence_name, l.expiry_date, l.created_at AS entered_ledger_at,
       'ledger' AS source,
       CASE
         WHEN EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date
                        AND t.outcome = 'wrong_number')
           THEN 'not reached: SMS failed and the phone number is wrong'
         WHEN EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date
                        AND t.outcome = 'no_answer')
           THEN 'not reached: SMS failed and nobody answered the phone'
         WHEN EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date
                        AND t.outcome = 'closed')
           THEN 'not reached: SMS failed and the call task was closed'
         WHEN EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date)
           THEN 'not reached: SMS failed and nobody worked the call task'
         WHEN (SELECT MAX(s.finished_at) FROM sync_run s WHERE s.dept_code = l.dept_code
                 AND s.status = 'success' AND s.mode IN ('full', 'incremental')) < l.expiry_date
           THEN 'department sync failing since before expiry: a renewal in its source is not known'
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
       END AS reason,
       COALESCE((SELECT MAX(t.reason) FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date),
                (SELECT MAX(r.status_reason) FROM reminder r WHERE r.ledger_id = l.id
                   AND r.expiry_date = l.expiry_date)) AS detail
FROM ledger l
WHERE l.status = 'valid' AND l.vanished_at IS NULL AND l.expiry_date < CURRENT_DATE
  AND NOT EXISTS (SELECT 1 FROM reminder r WHERE r.ledger_id = l.id
                    AND r.expiry_date = l.expiry_date AND r.status IN ('sent', 'delivered'))
  AND NOT EXISTS (SELECT 1 FROM call_task t WHERE t.ledger_id = l.id AND t.expiry_date = l.expiry_date
                    AND t.outcome IN ('reached_renewing', 'reached_not_renewing', 'reached_already_renewed'))
UNION ALL
SELECT q.dept_code, q.licence_no, q.licence_name, q.expiry_date, NULL, 'quarantine',
       'held in quarantine: the record could not be loaded, so no reminder could be planned',
       q.rules
FROM quarantine q
WHERE q.resolved_at IS NULL AND q.expiry_date < CURRENT_DATE
  AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.dept_code = q.dept_code AND l.licence_no = q.licence_no)
