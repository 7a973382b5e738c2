-- What LOAD DATA LOCAL turned into warnings (bad values): the first few are enough to say why.
SHOW WARNINGS LIMIT 3
