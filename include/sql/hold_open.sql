INSERT INTO dispatch_hold (dept_code, open_key, held_at, data_as_of, reason)
SELECT :dept_code, :dept_code, :now, :data_as_of, :reason
FROM department WHERE code = :dept_code AND NOT EXISTS (SELECT 1 FROM dispatch_hold WHERE open_key = :dept_code)
