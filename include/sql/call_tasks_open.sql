-- Call tasks for the licence's department, one per licence cycle and stage, on the day they are
-- known to be needed; not for licences already expired (a call cannot warn any more; the lapsed
-- report says why):
-- - by policy: the catalogue entry phones every holder at this stage (channel 'call');
-- - as the fallback: no channel of the stage reached the holder (no usable mobile, a permanent
--   refusal, a carrier's "not delivered", a message left in doubt, a message no gateway could take,
--   no mini-program consent) and none is still on its way; an in-system prompt does not wait for
--   the holder to log in, but one acknowledged is reach. The task hangs on the stage's first failed
--   pushed channel, SMS before the mini-program, and carries its reason.
INSERT INTO call_task (dept_code, ledger_id, licence_no, expiry_date, stage, reminder_id, message_id, due_on,
                       reason_code, reason, status, outcomes, created_run, created_at, updated_at)
SELECT r.dept_code, r.ledger_id, r.licence_no, r.expiry_date, r.stage, r.id, r.message_id, :today,
       CASE WHEN r.channel = 'call' THEN 'policy'
            WHEN r.status = 'unreachable' THEN 'no_consent'
            WHEN r.status_reason LIKE 'no usable mobile%' THEN 'no_mobile'
            WHEN r.status_reason LIKE 'not delivered%' THEN 'undelivered'
            WHEN r.status_reason LIKE 'in doubt%' THEN 'in_doubt'
            WHEN r.status_reason LIKE 'permanent%' THEN 'refused'
            WHEN r.status_reason LIKE 'gave up%' THEN 'gateway_failing'
            ELSE 'cannot_send' END,
       r.status_reason, 'open', 0, :run_id, :now, :now
FROM reminder r
WHERE r.expiry_date >= :today
  AND NOT EXISTS (SELECT 1 FROM call_task t WHERE t.reminder_id = r.id)
  AND ((r.channel = 'call' AND r.status = 'call_list')
       OR (r.channel IN ('sms', 'miniprogram') AND r.status IN ('call_list', 'failed', 'unreachable')
           AND r.id = (SELECT o.id FROM reminder o
                       WHERE o.ledger_id = r.ledger_id AND o.expiry_date = r.expiry_date AND o.stage = r.stage
                         AND o.channel IN ('sms', 'miniprogram') AND o.status IN ('call_list', 'failed', 'unreachable')
                       ORDER BY CASE o.channel WHEN 'sms' THEN 0 ELSE 1 END, o.id
                       LIMIT 1)
           AND NOT EXISTS (SELECT 1 FROM reminder o
                           WHERE o.ledger_id = r.ledger_id AND o.expiry_date = r.expiry_date AND o.stage = r.stage
                             AND (o.status IN ('sent', 'delivered') OR o.channel = 'call'
                                  OR (o.status IN ('planned', 'queued') AND o.channel IN ('sms', 'miniprogram'))))
           AND NOT EXISTS (SELECT 1 FROM call_task t
                           WHERE t.ledger_id = r.ledger_id AND t.expiry_date = r.expiry_date AND t.stage = r.stage)))
