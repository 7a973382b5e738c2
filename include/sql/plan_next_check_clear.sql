DELETE FROM plan_next_check
