-- Reminders SMS could not deliver become call tasks for the licence's department, one each, on
-- the day SMS failed: no usable mobile, a permanent refusal, a carrier's "not delivered", a message
-- left in doubt, a message no gateway could take. Not for licences already expired (a call cannot
-- warn any more; the lapsed report says why).
INSERT INTO call_task (dept_code, ledger_id, licence_no, expiry_date, stage, reminder_id, message_id, due_on,
                       reason_code, reason, status, outcomes, created_run, created_at, updated_at)
SELECT r.dept_code, r.ledger_id, r.licence_no, r.expiry_date, r.stage, r.id, r.message_id, :today,
       CASE WHEN r.status_reason LIKE 'no usable mobile%' THEN 'no_mobile'
            WHEN r.status_reason LIKE 'not delivered%' THEN 'undelivered'
            WHEN r.status_reason LIKE 'in doubt%' THEN 'in_doubt'
            WHEN r.status_reason LIKE 'permanent%' THEN 'refused'
            WHEN r.status_reason LIKE 'gave up%' THEN 'gateway_failing'
            ELSE 'cannot_send' END,
       r.status_reason, 'open', 0, :run_id, :now, :now
FROM reminder r
WHERE r.status IN ('call_list', 'failed') AND r.expiry_date >= :today
  AND NOT EXISTS (SELECT 1 FROM call_task t WHERE t.reminder_id = r.id)
