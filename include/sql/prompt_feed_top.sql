SELECT seq FROM prompt_feed WHERE id = 1
