"""The audit trail is append-only: the database itself refuses UPDATE and DELETE on it.

An assessor trusts the delivery log and the ledger history because no one — not the product, not
an operator with the application's account — can rewrite them after the fact.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op
from licence_reminder.schema import append_only_triggers

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("delivery_attempt", "ledger_history")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for _name, ddl in append_only_triggers(table, dialect):
            op.execute(ddl)


def downgrade() -> None:
    for table in APPEND_ONLY:
        for name, _ddl in append_only_triggers(table, "sqlite"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
