-- TEMPORARY: a plain DROP TABLE would commit the planning's transaction
DROP TEMPORARY TABLE IF EXISTS plan_next_check
