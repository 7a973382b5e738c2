"""Every channel beside SMS: mini-program consents, in-system prompts, a channel policy per entry.

- ``catalogue_entry.channels``: the entry's channel policy as JSON (NULL: SMS at both stages).
- ``wechat_consent``: a holder's subscription to a mini-program template (openid ↔ holder code
  and/or contact mobile, one-time or long-term, granted / used / revoked), filled by the intake
  API; ``reserved_by`` is the outbox message a one-time consent is set aside for, ``used_*`` the
  message that used it up (in the same transaction as that message's send record).
- ``outbox_message.consent_id``: the consent a mini-program message is sent under.
- ``business_prompt``: the prompts a department's business system pulls (``feed_seq`` is its
  cursor: each change takes the next number of ``prompt_feed``, under its row lock, so a reader
  never skips a change committed late) and acknowledges.
- Views: ``v_delivery_daily`` / ``v_delivery_monthly`` by channel, with prompts served and
  acknowledged; ``v_expired_without_delivery`` counts a mini-program message or an acknowledged
  prompt as reach, says why when neither reached, and shows each channel's outcome;
  ``v_assessment_yearly`` adds reached by mini-program and acknowledged in-system;
  ``v_reminder_channels`` (new): every reminder of every channel.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from licence_reminder.schema import view_sql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_MYSQL = {"mysql_engine": "InnoDB", "mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}
#: (view, revision whose definition it had before this one)
REPLACED_VIEWS = (
    ("v_delivery_daily", "0005"),
    ("v_delivery_monthly", "0005"),
    ("v_expired_without_delivery", "0010"),
    ("v_assessment_yearly", "0010"),
)
NEW_VIEWS = ("v_reminder_channels",)
PLACEHOLDERS = {
    "mysql": {
        "{old_expiry}": "CAST(JSON_VALUE(h.old_values, '$.expiry_date') AS DATE)",
        "{status_reason}": "CONCAT(r.status, COALESCE(CONCAT(': ', r.status_reason), ''))",
    },
    "sqlite": {
        "{old_expiry}": "json_extract(h.old_values, '$.expiry_date')",
        "{status_reason}": "r.status || COALESCE(': ' || r.status_reason, '')",
    },
}


def _dialect() -> str:
    name = op.get_bind().dialect.name
    return "mysql" if name in {"mysql", "mariadb"} else name


def _create_view(view: str, revision_of: str) -> None:
    text = view_sql(view, revision_of)
    for placeholder, value in PLACEHOLDERS[_dialect()].items():
        text = text.replace(placeholder, value)
    op.execute(text)


def _grant(views: tuple[str, ...], verb: str = "GRANT") -> None:
    if _dialect() != "mysql":
        return
    database = op.get_bind().exec_driver_sql("SELECT DATABASE()").scalar()
    for view in views:
        op.execute(
            f"{verb} SELECT ON `{database}`.`{view}` {'TO' if verb == 'GRANT' else 'FROM'} licence_auditor"
        )


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    for view, _ in REPLACED_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    with op.batch_alter_table("catalogue_entry") as batch:
        batch.add_column(sa.Column("channels", sa.String(255), nullable=True))
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("consent_id", sa.BigInteger(), nullable=True))

    op.create_table(
        "wechat_consent",
        _id(),
        sa.Column("client_id", sa.String(40), nullable=False),
        sa.Column("client_ref", sa.String(64), nullable=False),
        sa.Column("openid", sa.String(64), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("holder_code", sa.String(32)),
        sa.Column("contact_mobile", sa.String(20)),
        sa.Column("dept_code", sa.String(32)),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("reserved_by", sa.String(32)),
        sa.Column("used_at", sa.DateTime()),
        sa.Column("used_message_id", sa.String(32)),
        sa.Column("revoked_at", sa.DateTime()),
        sa.Column("revoked_reason", sa.String(200)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("client_id", "client_ref", name="uq_wechat_consent_ref"),
        **_MYSQL,
    )
    op.create_index("ix_wechat_consent_holder", "wechat_consent", ["holder_code", "status"])
    op.create_index("ix_wechat_consent_mobile", "wechat_consent", ["contact_mobile", "status"])
    op.create_index("ix_wechat_consent_openid", "wechat_consent", ["openid", "template_id"])

    op.create_table(
        "business_prompt",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("reminder_id", sa.BigInteger(), nullable=False),
        sa.Column("dept_code", sa.String(32), nullable=False),
        sa.Column("ledger_id", sa.BigInteger(), nullable=False),
        sa.Column("licence_no", sa.String(64), nullable=False),
        sa.Column("licence_name", sa.String(128), nullable=False),
        sa.Column("holder_name", sa.String(200)),
        sa.Column("holder_code", sa.String(32)),
        sa.Column("stage", sa.Integer(), nullable=False),
        sa.Column("expiry_date", sa.Date(), nullable=False),
        sa.Column("apply_by", sa.Date()),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("closed_reason", sa.String(200)),
        sa.Column("feed_seq", sa.BigInteger(), nullable=False),
        sa.Column("run_id", sa.String(250), nullable=False),
        sa.Column("served_at", sa.DateTime()),
        sa.Column("acknowledged_at", sa.DateTime()),
        sa.Column("acknowledged_by", sa.String(100)),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("reminder_id", name="uq_business_prompt_reminder"),
        **_MYSQL,
    )
    op.create_index("ix_business_prompt_feed", "business_prompt", ["dept_code", "feed_seq"])
    op.create_index("ix_business_prompt_status", "business_prompt", ["status", "expiry_date"])
    feed = op.create_table(
        "prompt_feed",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        **_MYSQL,
    )
    op.bulk_insert(feed, [{"id": 1, "seq": 0}])

    for view, _ in REPLACED_VIEWS:
        _create_view(view, revision)
    for view in NEW_VIEWS:
        _create_view(view, revision)
    _grant(tuple(v for v, _ in REPLACED_VIEWS) + NEW_VIEWS)


def downgrade() -> None:
    _grant(NEW_VIEWS, "REVOKE")
    for view in NEW_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for view, _ in REPLACED_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for table in ("prompt_feed", "business_prompt", "wechat_consent"):
        op.drop_table(table)
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_column("consent_id")
    with op.batch_alter_table("catalogue_entry") as batch:
        batch.drop_column("channels")
    for view, revision_of in REPLACED_VIEWS:
        _create_view(view, revision_of)
    _grant(tuple(v for v, _ in REPLACED_VIEWS))
