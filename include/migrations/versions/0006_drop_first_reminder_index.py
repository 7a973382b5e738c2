"""Drop the ledger's index on first_reminder_on: no statement reads it, and every load pays for it.

Dispatch finds its candidates by expiry date (``ix_ledger_expiry``); no query filters or sorts on
the first reminder date. Keeping the index up to date was a third of the time of inserting a
first load into the ledger (200,000 rows: 1.95 s with it, 1.33 s without) and a cost on every
changed row after that.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_ledger_first_reminder", table_name="ledger")


def downgrade() -> None:
    op.create_index("ix_ledger_first_reminder", "ledger", ["first_reminder_on"])
