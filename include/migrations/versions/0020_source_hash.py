"""A full run skips rows read exactly as the ledger last took them.

- ``ledger.source_hash`` (and ``staging_licence``'s): the md5 of the row as the department's
  extract gave it, before validation. A full run does not validate again a row whose source hash
  is the ledger's, of a licence loaded without warnings, not in quarantine, not duplicated, and
  whose department's rules and catalogue are those it was last fully validated under.
- ``department.validated_context``: the md5 of those rules and that catalogue (and the
  department's file), as of the department's last committed full run.

Existing rows have no source hash: each department's next full run validates every row and writes
the hashes (no history entry).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("ledger", "staging_licence"):
        op.add_column(table, sa.Column("source_hash", sa.String(32), nullable=True))
    op.add_column("department", sa.Column("validated_context", sa.String(32), nullable=True))


def downgrade() -> None:
    # in place (SQLite 3.35+ too): a rebuilt table would lose its triggers and views
    op.execute("ALTER TABLE department DROP COLUMN validated_context")
    for table in ("staging_licence", "ledger"):
        op.execute(f"ALTER TABLE {table} DROP COLUMN source_hash")
