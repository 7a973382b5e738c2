INSERT INTO business_prompt (id, reminder_id, dept_code, ledger_id, licence_no, licence_name, holder_name,
    holder_code, stage, expiry_date, apply_by, title, body, body_sha256, status, feed_seq, run_id,
    created_at, updated_at)
VALUES (:id, :reminder_id, :dept_code, :ledger_id, :licence_no, :licence_name, :holder_name, :holder_code,
    :stage, :expiry_date, :apply_by, :title, :body, :body_sha256, :status, :feed_seq, :run_id, :now, :now)
