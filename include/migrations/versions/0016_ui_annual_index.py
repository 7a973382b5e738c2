"""An index for the UI's annual assessment: a department's reminders by licence cycle.

The annual page (``include/sql/ui_annual_assessment.sql``) reads a department's reminders a
gateway accepted, grouped by cycle (licence, expiry date). Without this index that is a scan of
every reminder of the city (671,000 for a 1,000,000-licence ledger, ~0.3 s); with it, a range of
the department's, in cycle order, so the grouping needs no sort (scripts/bench_ui.py). A reminder
is written once a day per due licence and updated a few times: the index costs the dispatch little.

Revision ID: 0016
Revises: 0013
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_reminder_dept_cycle", "reminder", ["dept_code", "ledger_id", "expiry_date", "status"]
    )


def downgrade() -> None:
    op.drop_index("ix_reminder_dept_cycle", table_name="reminder")
