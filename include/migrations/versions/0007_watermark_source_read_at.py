"""The source's own clock when a department's last committed run began to read it.

An incremental run reads again the rows stamped within ``watermark_lookback_seconds`` of that
moment (a transaction in flight then may have committed rows stamped before it), not of the
watermark: after a bulk change a quiet register's watermark stays put, and a lookback counted
back from it would read the whole bulk again every day.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_watermark") as batch:
        batch.add_column(sa.Column("source_read_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sync_watermark") as batch:
        batch.drop_column("source_read_at")
