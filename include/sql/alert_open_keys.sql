SELECT open_key, kind FROM alert WHERE open_key IS NOT NULL
