-- A department's ledger figures, taken at :taken_at (figures_ledger.sql).
-- Never over figures taken later (a sync's and the dispatch's takings may overlap).
UPDATE department_figures
SET ledger_taken_at = :taken_at, in_ledger = :in_ledger, revoked = :revoked, cancelled = :cancelled,
    vanished = :vanished, in_quarantine = :in_quarantine, with_warnings = :with_warnings
WHERE dept_code = :dept_code AND (ledger_taken_at IS NULL OR ledger_taken_at <= :taken_at)
