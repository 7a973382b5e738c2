"""The planner's own bookkeeping: ``ledger.next_check_on`` and ``catalogue_entry.checked_channels``.

The day's planning used to read every valid licence cycle whose first reminder day had come or
that held reminders — the due window of a 3-year ledger, 550,000 rows a day at 10,000,000
licences — and decide each in Python, to act on a few thousand (docs/adr/0504-planner-next-check.md).
Now each cycle carries the day the planner must look at it next: NULL for one it has not looked
at since the sync wrote it (a sync that changes a row sets it back to NULL), a reminder day still
ahead, or 9999-12-31 for a cycle with nothing left to decide. ``checked_channels`` is the channel
policy of a catalogue entry the planner last applied to its cycles: an entry whose policy differs
has all of its due cycles looked at once.

Existing rows: a cycle that expired before the migration is parked (9999-12-31); any other takes
its first reminder day (NULL if it has none), so the first planning after the migration looks
once at every cycle whose first reminder day has come, as the planner did every day before.

Revision ID: 0025
Revises: 0024
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

NEVER = dt.date(9999, 12, 31)


def upgrade() -> None:
    op.add_column("ledger", sa.Column("next_check_on", sa.Date(), nullable=True))
    op.add_column("catalogue_entry", sa.Column("checked_channels", sa.Text(), nullable=True))
    # two days back: the migration does not know the city's time zone, and a cycle that expired
    # yesterday is never planned anyway
    op.execute(
        sa.text(
            "UPDATE ledger SET next_check_on = CASE WHEN expiry_date < :cutoff THEN :never "
            "ELSE first_reminder_on END"
        ).bindparams(cutoff=dt.date.today() - dt.timedelta(days=2), never=NEVER)
    )
    # the planner applied the current policy every day until now
    op.execute("UPDATE catalogue_entry SET checked_channels = COALESCE(channels, '')")
    op.create_index("ix_ledger_next_check", "ledger", ["next_check_on"])


def downgrade() -> None:
    op.drop_index("ix_ledger_next_check", table_name="ledger")
    # in place (SQLite 3.35+ too): a rebuilt table would lose its triggers and views
    op.execute("ALTER TABLE catalogue_entry DROP COLUMN checked_channels")
    op.execute("ALTER TABLE ledger DROP COLUMN next_check_on")
