SELECT id, reminder_id, dept_code, licence_no, holder_code, body_sha256, status
FROM business_prompt WHERE id IN :ids AND dept_code = :dept_code
