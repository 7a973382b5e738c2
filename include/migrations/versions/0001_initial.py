"""The ledger, its runs and quarantine, the reminder outbox and the delivery audit.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _ts(name: str, nullable: bool = True) -> sa.Column:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def _canonical() -> list[sa.Column]:
    return [
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("licence_name", sa.String(128), nullable=False),
        sa.Column("holder_name", sa.String(200), nullable=False),
        sa.Column("holder_type", sa.String(8), nullable=False),
        sa.Column("holder_code", sa.String(32)),
        sa.Column("contact_name", sa.String(100)),
        sa.Column("contact_id_no", sa.String(18)),
        sa.Column("contact_mobile", sa.String(20), nullable=False),
        sa.Column("issue_date", sa.Date()),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="valid"),
        sa.Column("renewal_applied_on", sa.Date()),
        _ts("source_updated_at"),
        sa.Column("first_reminder_on", sa.Date()),
        sa.Column("second_reminder_on", sa.Date()),
        sa.Column("row_hash", sa.String(32), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region_code", sa.String(6), nullable=False),
        _ts("updated_at", False),
        **_MYSQL,
    )
    op.create_table(
        "catalogue_entry",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        sa.Column("licence_name", sa.String(128), primary_key=True),
        sa.Column("approval_item", sa.String(200), nullable=False),
        sa.Column("office", sa.String(100), nullable=False),
        sa.Column("statutory_validity", sa.String(50), nullable=False),
        sa.Column("first_lead_days", sa.Integer(), nullable=False),
        sa.Column("second_lead_days", sa.Integer(), nullable=False),
        sa.Column("renewal_window", sa.String(200), nullable=False),
        sa.Column("renewal_deadline_days", sa.Integer(), nullable=False),
        sa.Column("online_url", sa.String(500)),
        sa.Column("service_hall", sa.String(500)),
        sa.Column("service_phone", sa.String(50), nullable=False),
        sa.Column("materials", sa.Text(), nullable=False),
        sa.Column("lapse_consequences", sa.Text(), nullable=False),
        _ts("updated_at", False),
        **_MYSQL,
    )
    op.create_table(
        "ledger",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("dept_code", sa.String(32), nullable=False),
        *_canonical(),
        sa.Column("cycle", sa.Integer(), nullable=False, server_default="1"),
        _ts("vanished_at"),
        sa.Column("created_run", sa.String(250), nullable=False),
        sa.Column("updated_run", sa.String(250), nullable=False),
        _ts("created_at", False),
        _ts("updated_at", False),
        sa.UniqueConstraint("dept_code", "licence_no", name="uq_ledger_licence"),
        **_MYSQL,
    )
    op.create_index("ix_ledger_expiry", "ledger", ["expiry_date"])
    op.create_index("ix_ledger_first_reminder", "ledger", ["first_reminder_on"])
    op.create_table(
        "ledger_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("change_kind", sa.String(16), nullable=False),
        sa.Column("old_values", sa.Text()),
        sa.Column("new_values", sa.Text()),
        _ts("changed_at", False),
        **_MYSQL,
    )
    op.create_index("ix_history_ledger", "ledger_history", ["ledger_id"])
    op.create_index("ix_history_run", "ledger_history", ["run_id"])
    op.create_table(
        "staging_licence",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        *_canonical(),
        **_MYSQL,
    )
    op.create_index("ix_staging_run", "staging_licence", ["run_id", "dept_code", "licence_no"])
    op.create_table(
        "staging_rejection",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(80), nullable=False),
        sa.Column("licence_no", sa.String(64)),
        sa.Column("source_row", sa.Integer()),
        sa.Column("rules", sa.String(1000), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("raw_values", sa.Text(), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_staging_rejection_run", "staging_rejection", ["run_id", "dept_code"])
    op.create_table(
        "staging_key",
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_staging_key_run", "staging_key", ["run_id", "dept_code", "kind"])
    op.create_table(
        "quarantine",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("record_key", sa.String(80), nullable=False),
        sa.Column("licence_no", sa.String(64)),
        sa.Column("source_row", sa.Integer()),
        sa.Column("rules", sa.String(1000), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("raw_values", sa.Text(), nullable=False),
        sa.Column("first_run_id", sa.String(250), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        _ts("first_seen_at", False),
        _ts("last_seen_at", False),
        _ts("resolved_at"),
        sa.Column("resolved_run_id", sa.String(250)),
        sa.Column("open_key", sa.String(120)),
        sa.UniqueConstraint("open_key", name="uq_quarantine_open"),
        **_MYSQL,
    )
    op.create_index("ix_quarantine_dept", "quarantine", ["dept_code", "resolved_at"])
    op.create_table(
        "sync_run",
        sa.Column("run_id", sa.String(250), primary_key=True),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        _ts("started_at", False),
        _ts("finished_at"),
        _ts("watermark_from"),
        _ts("watermark_to"),
        sa.Column("rows_read", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rows_valid", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("rows_rejected", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("inserted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("renewed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("vanished", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("quarantine_resolved", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("counts_by_rule", sa.Text()),
        sa.Column("error", sa.Text()),
        **_MYSQL,
    )
    op.create_index("ix_sync_run_dept", "sync_run", ["dept_code", "started_at"])
    op.create_table(
        "sync_watermark",
        sa.Column("dept_code", sa.String(32), primary_key=True),
        _ts("watermark", False),
        sa.Column("run_id", sa.String(250), nullable=False),
        _ts("updated_at", False),
        **_MYSQL,
    )
    op.create_table(
        "reminder",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("planned_run", sa.String(250), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_reason", sa.String(500)),
        sa.Column("message_id", sa.String(32)),
        _ts("created_at", False),
        _ts("updated_at", False),
        sa.UniqueConstraint(
            "ledger_id", "expiry_date", "stage", "channel", name="uq_reminder_once"
        ),
        **_MYSQL,
    )
    op.create_index("ix_reminder_status", "reminder", ["status", "due_on"])
    op.create_index("ix_reminder_message", "reminder", ["message_id"])
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("gateway", sa.String(32), nullable=False),
        sa.Column("gateway_conn_id", sa.String(250), nullable=False),
        sa.Column("recipient", sa.String(64), nullable=False),
        sa.Column("recipient_masked", sa.String(64), nullable=False),
        sa.Column("template_name", sa.String(64), nullable=False),
        sa.Column("template_code", sa.String(64)),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("body_length", sa.Integer(), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        _ts("next_attempt_at"),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("last_code", sa.String(100)),
        sa.Column("last_message", sa.String(500)),
        sa.Column("run_id", sa.String(250), nullable=False),
        _ts("created_at", False),
        _ts("sent_at"),
        _ts("updated_at", False),
        **_MYSQL,
    )
    op.create_index("ix_outbox_status", "outbox_message", ["status", "shard", "next_attempt_at"])
    op.create_table(
        "delivery_attempt",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("message_id", sa.String(32), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("gateway", sa.String(32), nullable=False),
        _ts("started_at", False),
        _ts("finished_at", False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("response_code", sa.String(100)),
        sa.Column("http_status", sa.Integer()),
        sa.Column("provider_message_id", sa.String(100)),
        sa.Column("request_id", sa.String(100)),
        sa.Column("recipient_masked", sa.String(64), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        **_MYSQL,
    )
    op.create_index("ix_attempt_message", "delivery_attempt", ["message_id"])
    op.create_index("ix_attempt_day", "delivery_attempt", ["dept_code", "started_at"])


def downgrade() -> None:
    for table in (
        "delivery_attempt",
        "outbox_message",
        "reminder",
        "sync_watermark",
        "sync_run",
        "quarantine",
        "staging_key",
        "staging_rejection",
        "staging_licence",
        "ledger_history",
        "ledger",
        "catalogue_entry",
        "department",
    ):
        op.drop_table(table)
