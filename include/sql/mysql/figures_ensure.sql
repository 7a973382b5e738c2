-- A department's figures row, when an UPDATE of one of its parts found none (figures._put).
INSERT IGNORE INTO department_figures (dept_code) VALUES (:dept_code)
