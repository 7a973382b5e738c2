-- What the department's last committed full run validated every row under (or NULL).
SELECT validated_context FROM department WHERE code = :dept_code
