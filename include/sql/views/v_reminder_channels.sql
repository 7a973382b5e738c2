-- Every reminder of every channel: the licence cycle, stage, channel, what became of it and why.
-- sms / miniprogram: sent or delivered = reached (a gateway or WeChat took it); prompt: delivered =
-- a business system acknowledged it was shown; call: a call task by policy (v_call_log). No
-- mobile, openid or text here: message_id leads to v_delivery_log.
CREATE VIEW v_reminder_channels AS
SELECT r.id AS reminder_id, r.dept_code, r.licence_no, r.cycle, r.expiry_date, r.stage, r.channel,
       r.due_on, r.status, r.status_reason, r.message_id, r.created_at, r.updated_at,
       CASE WHEN r.status IN ('sent', 'delivered') THEN 1 ELSE 0 END AS reached
FROM reminder r
