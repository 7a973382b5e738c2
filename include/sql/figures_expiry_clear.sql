DELETE FROM department_expiry_figures WHERE dept_code = :dept_code
