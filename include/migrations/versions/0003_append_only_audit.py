"""The audit trail is append-only: the database itself refuses UPDATE and DELETE on it.

An assessor trusts the delivery log and the ledger history because no one — not the product, not
an operator with the application's account — can rewrite them after the fact.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

APPEND_ONLY = ("delivery_attempt", "ledger_history")


def _triggers() -> list[tuple[str, str, str]]:
    return [(f"{table}_no_{event.lower()}", table, event)
            for table in APPEND_ONLY for event in ("UPDATE", "DELETE")]


def upgrade() -> None:
    mysql = op.get_bind().dialect.name in {"mysql", "mariadb"}
    for name, table, event in _triggers():
        message = f"{table} is append-only: {event} refused"
        if mysql:
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                       f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'")
        else:
            op.execute(f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                       f"BEGIN SELECT RAISE(ABORT, '{message}'); END")


def downgrade() -> None:
    for name, _, _ in _triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
