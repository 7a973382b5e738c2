"""Delivery reports the SMS providers push: kept first, applied to the outbox when they can be.

- ``pushed_report``: every report a provider pushed (Alibaba SmsReport, Tencent's status callback,
  the generic platform's callback), one row per (provider, message): ``message_key`` is our id
  (Alibaba ``out_id``, Tencent ``ext``, the platform's out id) when the report carries it, else
  ``sid:`` + the provider's id (Tencent ``sid``, Alibaba ``biz_id``). A second push of the same
  report is not stored again (the unique key). ``state``: ``pending`` (no message sent under
  that key yet: the report came before the send was recorded), ``applied`` (it settled the
  message, with the same ``delivery_attempt`` receipt row the pull writes), ``duplicate`` (the
  message was settled already, by the pull or another report), ``unmatched`` (still no such
  message after the receipt window). Only the masked mobile is kept.

Revision ID: 0022
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def upgrade() -> None:
    op.create_table(
        "pushed_report",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("provider", sa.String(16), nullable=False),
        sa.Column("receiver", sa.String(40), nullable=False),
        sa.Column("message_key", sa.String(120), nullable=False),
        sa.Column("out_id", sa.String(64)),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("delivered", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(100)),
        sa.Column("recipient_masked", sa.String(64), nullable=False),
        sa.Column("reported_at", sa.String(32)),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message_id", sa.String(32)),
        sa.Column("settled_at", sa.DateTime()),
        sa.UniqueConstraint("provider", "message_key", name="uq_pushed_report_message"),
        **_MYSQL,
    )
    op.create_index("ix_pushed_report_state", "pushed_report", ["state", "received_at"])
    op.create_index("ix_outbox_provider_id", "outbox_message", ["provider_message_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_provider_id", "outbox_message")
    op.drop_table("pushed_report")
