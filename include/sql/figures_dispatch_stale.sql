-- Something the dispatch part counts changed after it was taken (a prompt acknowledged, a call
-- outcome recorded, a delivery report applied): the summary counts the department's part live
-- until the next taking.
UPDATE department_figures SET dispatch_taken_at = NULL WHERE dept_code = :dept_code
