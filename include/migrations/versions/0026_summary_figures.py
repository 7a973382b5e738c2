"""The summary's per-department figures, kept as the syncs and the dispatch change the data.

``licence_reminder summary`` counted every table of the ledger database on each call: 37-38 s at
province scale (10,000,000 licences over 100 departments, docs/benchmarks.md), two full passes
over the ledger among them. Now each department's figures are taken by department-scoped queries
at the end of its sync (``department retire`` too) and, for the reminders, messages, gateway calls
and call tasks, at the end of the day's dispatch (docs/adr/0503-summary-figures.md):

- ``department_figures``: one row per department; the ledger part (taken at ``ledger_taken_at``)
  and the dispatch part (``dispatch_taken_at``, ``channels`` as JSON). A part never taken (NULL)
  is counted live by the summary.
- ``department_expiry_figures``: a department's valid licences still in the source, per expiry
  date — the summary's "expiring within a year" depends on the day it is asked.
- ``department_segment_figures``: a department's SMS messages written (not superseded or
  cancelled) per day written and length in billed segments, and how many a provider accepted —
  the summary's "last 365 days" depends on the day too.
- ``ix_ledger_dept_figures`` on the ledger (department, status, vanished, expiry date): a
  department's counts and expiry histogram read from the index alone, in time proportional to
  the department rather than the ledger.

Revision ID: 0026
Revises: 0025
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None

_TABLE = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
_COUNT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_LEDGER = ("in_ledger", "revoked", "cancelled", "vanished", "in_quarantine", "with_warnings")
_DISPATCH = (
    "calls_open",
    "calls_reached",
    "call_tasks",
    "reminders",
    "reminders_cancelled",
    "messages_sent",
    "messages_delivered",
    "messages_failed",
    "messages_pending",
    "gateway_calls",
)


def upgrade() -> None:
    op.create_table(
        "department_figures",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        sa.Column("ledger_taken_at", sa.DateTime(), nullable=True),
        *(sa.Column(c, _COUNT, nullable=True) for c in _LEDGER),
        sa.Column("dispatch_taken_at", sa.DateTime(), nullable=True),
        *(sa.Column(c, _COUNT, nullable=True) for c in _DISPATCH),
        sa.Column("channels", sa.Text(), nullable=True),
        **_TABLE,
    )
    op.create_table(
        "department_expiry_figures",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        sa.Column("expiry_date", sa.Date(), primary_key=True),
        sa.Column("licences", _COUNT, nullable=False),
        **_TABLE,
    )
    op.create_table(
        "department_segment_figures",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        sa.Column("created_on", sa.Date(), primary_key=True),
        sa.Column("segments", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("messages", _COUNT, nullable=False),
        sa.Column("accepted", _COUNT, nullable=False),
        **_TABLE,
    )
    op.create_index(
        "ix_ledger_dept_figures", "ledger", ["dept_code", "status", "vanished_at", "expiry_date"]
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_dept_figures", table_name="ledger")
    op.drop_table("department_segment_figures")
    op.drop_table("department_expiry_figures")
    op.drop_table("department_figures")
