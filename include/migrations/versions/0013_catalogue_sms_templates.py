"""The catalogue mirror keeps what a reminder's per-entry SMS template and dates are built from.

``catalogue_entry`` gains the entry's ``code`` (its page and its templates are named by it),
``page_url`` (a department's own link instead of the published catalogue page),
``licence_no_digits`` (the message states the licence number's last 4-6 characters),
``sms_consequences`` (the consequences of lapsing in a few words for the second SMS) and
``lead_rule``: the entry's reminder and deadline rules as JSON when any counts working days or
is counted from the renewal deadline (NULL: the calendar days of the columns already there).
Rows written before this revision read as before: no code (derived from the name), the
catalogue page, no licence number, the full consequences, calendar days.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_COLUMNS = (
    sa.Column("code", sa.String(20), nullable=True),
    sa.Column("page_url", sa.String(200), nullable=True),
    sa.Column("licence_no_digits", sa.SmallInteger(), nullable=True),
    sa.Column("sms_consequences", sa.String(60), nullable=True),
    sa.Column("lead_rule", sa.String(255), nullable=True),
)


def upgrade() -> None:
    with op.batch_alter_table("catalogue_entry") as batch:
        for column in _COLUMNS:
            batch.add_column(column.copy())


def downgrade() -> None:
    with op.batch_alter_table("catalogue_entry") as batch:
        for column in reversed(_COLUMNS):
            batch.drop_column(column.name)
