-- Released by an operator on the data the department has now: not held again until it syncs.
SELECT COUNT(*) FROM dispatch_hold
WHERE dept_code = :dept_code AND ended_how = 'released'
  AND (data_as_of = :data_as_of OR (data_as_of IS NULL AND :data_as_of IS NULL))
