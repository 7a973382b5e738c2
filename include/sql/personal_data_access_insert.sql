-- A full mobile or ID number shown or exported to a person (append-only audit).
INSERT INTO personal_data_access (accessed_at, accessed_by, via, dept_code, subject, fields, row_count)
VALUES (:now, :accessed_by, :via, :dept_code, :subject, :fields, :row_count)
