-- The summary's departments and the figures last taken of each (figures.py): NULL taken_at, a
-- part never taken, which the summary counts live for that department.
SELECT d.code, d.name, f.*
FROM department d LEFT JOIN department_figures f ON f.dept_code = d.code
ORDER BY d.code
