INSERT INTO department_segment_figures (dept_code, created_on, segments, messages, accepted)
VALUES (:dept_code, :created_on, :segments, :messages, :accepted)
