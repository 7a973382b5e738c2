-- Open warnings this run did not find again are resolved: the source was fixed. A full run read
-- every licence; a run of changed rows read only those it staged, and — when it searched the
-- whole source for them — every duplicated licence number.
UPDATE licence_warning SET resolved_at = :now, resolved_run_id = :run_id, open_key = NULL
WHERE dept_code = :dept_code AND resolved_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM staging_warning s
                  WHERE s.run_id = :run_id AND s.dept_code = :dept_code AND s.licence_no = licence_warning.licence_no
                    AND s.rule = licence_warning.rule AND s.column_name = licence_warning.column_name)
  AND (:full = 1
       OR (rule = 'duplicate_in_source' AND :duplicates_checked = 1)
       OR licence_no IN (SELECT st.licence_no FROM staging_licence st
                         WHERE st.run_id = :run_id AND st.dept_code = :dept_code))
