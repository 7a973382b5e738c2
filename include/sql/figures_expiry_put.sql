INSERT INTO department_expiry_figures (dept_code, expiry_date, licences)
VALUES (:dept_code, :expiry_date, :licences)
