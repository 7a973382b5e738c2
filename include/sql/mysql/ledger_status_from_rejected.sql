-- A licence whose row this run rejected although it says revoked or cancelled takes that status
-- (history_status_from_rejected.sql); its other values stay as last loaded. The row hash is
-- spoiled so that the row, once fixed, is merged whole even if it equals what was loaded before.
-- A join, driven by the run's few keys: MariaDB runs a single-table UPDATE's IN (subquery) once
-- per ledger row (2 minutes for 1,000,000). The run's own keys, through their index: other
-- departments' runs hold their staged rows locked until they commit.
UPDATE (SELECT k.licence_no, MAX(k.kind) AS kind FROM staging_key k FORCE INDEX (ix_staging_key_run)
        WHERE k.run_id = :run_id AND k.dept_code = :dept_code AND k.kind IN ('revoked', 'cancelled')
        GROUP BY k.licence_no) r
STRAIGHT_JOIN ledger l ON l.dept_code = :dept_code AND l.licence_no = r.licence_no
SET l.status = r.kind, l.row_hash = 'status from a rejected row', l.next_check_on = NULL, l.updated_run = :run_id,
    l.updated_at = :now
WHERE l.status = 'valid'
