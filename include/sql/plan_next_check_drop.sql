DROP TABLE IF EXISTS plan_next_check
