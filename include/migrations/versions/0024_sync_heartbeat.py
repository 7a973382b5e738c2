"""A sync run's heartbeat: ``sync_run.heartbeat_at``.

A run beats every half minute while it works (from a connection of its own, outside its
transaction). A run whose process was killed, or that lost its ledger server, cannot record its
failure and stays ``running``; the next run of its department closes it as failed ("no heartbeat
since …") when its last beat is older than the run's staleness limit. Existing rows have no beat:
their start stands for it.

Revision ID: 0024
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_run", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # in place (SQLite 3.35+ too): a rebuilt table would lose its triggers and views
    op.execute("ALTER TABLE sync_run DROP COLUMN heartbeat_at")
