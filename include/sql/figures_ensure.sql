-- A department's figures row, if it has none yet (its parts are then written by UPDATE: a sync
-- and the dispatch each write their own).
INSERT INTO department_figures (dept_code) VALUES (:dept_code) ON CONFLICT (dept_code) DO NOTHING
