-- A department's figures row, when an UPDATE of one of its parts found none (figures._put).
INSERT INTO department_figures (dept_code) VALUES (:dept_code) ON CONFLICT (dept_code) DO NOTHING
