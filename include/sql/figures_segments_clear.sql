DELETE FROM department_segment_figures WHERE dept_code = :dept_code
