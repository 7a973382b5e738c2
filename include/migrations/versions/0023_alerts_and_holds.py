"""Alerts sent once per incident, and departments held from dispatch for stale data.

- ``alert``: one row per incident (a department's sync failing, its data older than the allowed
  age, a gateway refusing the account, a dispatch late or unable to send). ``open_key`` is the
  incident's key while it is open and NULL once resolved: the unique index lets one open row per
  incident exist, so a retry or the next run finds it and sends nothing more. ``sent_at`` is set
  once the notifiers took it; ``claimed_at`` keeps two tasks from sending it at the same moment.
- ``dispatch_hold``: a department whose last good sync is older than the allowed age. While a row
  is open (``open_key`` = its code) its reminders stay planned; the department's next good sync
  ends it, or an operator releases it (who, when, why recorded: the row is its own audit).

Revision ID: 0023
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "alert",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("incident_key", sa.String(200), nullable=False),
        sa.Column("open_key", sa.String(200), nullable=True, unique=True),
        sa.Column("dept_code", sa.String(32), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("sent_to", sa.String(200), nullable=True),
        sa.Column("resolved_at", sa.DateTime(), nullable=True),
        **_TABLE,
    )
    op.create_index("ix_alert_kind_opened", "alert", ["kind", "opened_at"])
    op.create_table(
        "dispatch_hold",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("open_key", sa.String(32), nullable=True, unique=True),
        sa.Column("held_at", sa.DateTime(), nullable=False),
        #: the finish of the department's last good sync when it was held (NULL: never synced)
        sa.Column("data_as_of", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        #: 'synced', 'released' or 'retired'
        sa.Column("ended_how", sa.String(16), nullable=True),
        sa.Column("released_by", sa.String(100), nullable=True),
        sa.Column("release_note", sa.String(500), nullable=True),
        **_TABLE,
    )
    op.create_index("ix_dispatch_hold_dept", "dispatch_hold", ["dept_code", "held_at"])


def downgrade() -> None:
    op.drop_index("ix_dispatch_hold_dept", table_name="dispatch_hold")
    op.drop_table("dispatch_hold")
    op.drop_index("ix_alert_kind_opened", table_name="alert")
    op.drop_table("alert")
