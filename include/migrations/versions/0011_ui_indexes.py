"""Indexes the UI's pages read through (docs/ui.md; timed by scripts/bench_ui.py).

The delivery log searches messages by day written, department, masked mobile and licence
number; Today counts today's reminders, sends and carrier reports, and 30 days of them; the
quarterly review reads a department's renewals. Without these, each of those scanned a whole
table (a 1,000,000-licence ledger's 600,000 messages, 900,000 attempts). None is on ``ledger``:
a sync's first load pays for every index there.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_outbox_created", "outbox_message", ["created_at"]),
    ("ix_outbox_dept_created", "outbox_message", ["dept_code", "created_at"]),
    ("ix_outbox_recipient", "outbox_message", ["recipient_masked", "created_at"]),
    ("ix_outbox_sent", "outbox_message", ["sent_at"]),
    ("ix_reminder_due", "reminder", ["due_on", "dept_code"]),
    ("ix_reminder_licence", "reminder", ["licence_no"]),
    # covering: the call list by expiry, the call list by day, a licence cycle's reminded/delivered
    ("ix_reminder_status_expiry", "reminder", ["status", "expiry_date", "dept_code"]),
    ("ix_reminder_status_updated", "reminder", ["status", "updated_at"]),
    ("ix_reminder_cycle_status", "reminder", ["ledger_id", "expiry_date", "status"]),
    ("ix_attempt_started", "delivery_attempt", ["started_at", "kind", "outcome", "dept_code"]),
    ("ix_history_dept_kind", "ledger_history", ["dept_code", "change_kind"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
