-- A new alert; the unique open_key refuses a second open alert of the same incident.
INSERT INTO alert (kind, incident_key, open_key, dept_code, title, body, opened_at)
VALUES (:kind, :key, :key, :dept_code, :title, :body, :now)
