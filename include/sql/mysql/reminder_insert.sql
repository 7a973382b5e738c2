-- The unique key (licence, expiry date, stage, channel) makes planning idempotent.
INSERT IGNORE INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel,
                             due_on, planned_run, status, created_at, updated_at)
VALUES (:ledger_id, :dept_code, :licence_no, :cycle, :expiry_date, :stage, :channel,
        :due_on, :run_id, 'planned', :now, :now)
