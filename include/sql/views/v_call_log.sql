-- Phone calls to holders SMS could not reach: one row per outcome a person recorded (append-only),
-- with the call task's licence, stage and why SMS failed. No mobile: the call task names it.
CREATE VIEW v_call_log AS
SELECT o.id AS outcome_id, o.recorded_at, o.dept_code, t.licence_no, t.stage, t.expiry_date,
       t.reason_code, t.reason AS sms_failure, o.outcome, o.retry_on, o.note, o.recorded_by,
       t.id AS call_task_id, t.reminder_id, t.message_id
FROM call_outcome o
JOIN call_task t ON t.id = o.call_task_id
