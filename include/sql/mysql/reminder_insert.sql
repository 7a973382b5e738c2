-- The unique key (licence, expiry date, stage, channel) makes planning idempotent.
-- Every value bound (status too): PyMySQL batches an executemany() into multi-row INSERTs
-- only when VALUES holds nothing but placeholders (17,491 reminders: 5.4 s one by one).
INSERT IGNORE INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel,
                             due_on, planned_run, status, created_at, updated_at)
VALUES (:ledger_id, :dept_code, :licence_no, :cycle, :expiry_date, :stage, :channel,
        :due_on, :run_id, :status, :now, :now)
