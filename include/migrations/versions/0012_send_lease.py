"""A lease per send shard, and the lease epoch each claimed message was claimed under.

A sender takes its shard's lease (a new epoch) before anything else; it checks the epoch before
every gateway call and claims and records only under it. A sender whose epoch was taken over (an
orphaned task process still running after its Celery worker died, while Airflow's retry runs)
stops before its next call; its claimed messages are looked up by the new holder only after the
longest call it could still have in flight (docs/adr/0201-send-shard-lease.md).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_lease",
        sa.Column("shard", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(250), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("claim_epoch", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("claim_epoch")
    op.drop_table("send_lease")
