"""Sync runs are numbered in the order they start; a ledger row's insertion cannot be rewritten.

``sync_run.run_no`` orders a department's runs exactly (``started_at`` is to the second, and two
runs can start within one; the summary showed the older as the last). Existing runs are numbered
by ``started_at``, then ``run_id``.

A sync no longer writes an ``insert`` row to ``ledger_history`` for every licence it adds (on a
first load of a big register that was as much work as the insert itself): the ledger row says
when and by which run it was inserted (``created_at``, ``created_run``), and a trigger now makes
the database refuse any UPDATE of those, or of the row's ``id``, ``dept_code`` and
``licence_no``, whoever asks, as ``ledger_history`` refuses any UPDATE at all (0003). So a
licence at any time T is still reconstructed as the ``new_values`` of its last change at or
before T, else the ``old_values`` of its first change after T, else the ledger row as it is now
— and it did not exist before its ``created_at``. Insert rows written before this revision stay.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from licence_reminder.schema import ledger_insertion_trigger

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    mysql = op.get_bind().dialect.name in {"mysql", "mariadb"}
    with op.batch_alter_table("sync_run") as batch:
        batch.add_column(sa.Column("run_no", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE sync_run SET run_no = (SELECT n FROM (SELECT run_id, ROW_NUMBER() OVER "
        "(ORDER BY started_at, run_id) AS n FROM sync_run) o WHERE o.run_id = sync_run.run_id)"
    )
    if mysql:  # numbered by the server from here on (SQLite's statement takes the next itself)
        op.execute(
            "ALTER TABLE sync_run MODIFY run_no BIGINT NOT NULL AUTO_INCREMENT, "
            "ADD UNIQUE KEY uq_sync_run_no (run_no)"
        )
    else:
        op.create_index("uq_sync_run_no", "sync_run", ["run_no"], unique=True)
    op.execute(ledger_insertion_trigger(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS ledger_insertion_fixed")
    if op.get_bind().dialect.name in {"mysql", "mariadb"}:
        op.execute("ALTER TABLE sync_run DROP KEY uq_sync_run_no, MODIFY run_no BIGINT NULL")
    else:
        op.drop_index("uq_sync_run_no", table_name="sync_run")
    with op.batch_alter_table("sync_run") as batch:
        batch.drop_column("run_no")
