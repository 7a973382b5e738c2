"""Quarantine entries remember the source row's key and how they were closed.

``source_key`` (the ``split_column`` value, when the department has one) lets a row that was fixed
under another licence number, or given one, leave quarantine at the next run, not only at the next
full run. ``resolution`` says whether a closed entry's row was seen valid (``fixed``) or no longer
returned by the extract at all (``gone``): a ``WHERE`` clause that drops rows must not look like a
fix. Entries closed before this revision have none.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("quarantine") as batch:
        batch.add_column(sa.Column("source_key", sa.String(64), nullable=True))
        batch.add_column(sa.Column("resolution", sa.String(16), nullable=True))
    with op.batch_alter_table("staging_rejection") as batch:
        batch.add_column(sa.Column("source_key", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("staging_rejection") as batch:
        batch.drop_column("source_key")
    with op.batch_alter_table("quarantine") as batch:
        batch.drop_column("resolution")
        batch.drop_column("source_key")
