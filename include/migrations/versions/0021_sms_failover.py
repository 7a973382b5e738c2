"""SMS provider failover: a provider's health shared by every sender, and the connection per attempt.

- ``sms_provider_health``: one row per SMS gateway connection a sender stepped over or an operator
  switched: ``cooldown_until`` (stepped over until then: consecutive failures past the threshold),
  ``tripped_at`` and ``reason``; ``switched_off`` / ``switched_by`` / ``switched_at`` /
  ``switch_reason``, the operator's switch (``gateways off`` / ``gateways on``).
- ``delivery_attempt.gateway_conn_id``: the connection each call, look-up or report went through
  (``gateway`` names only the provider kind: two Alibaba accounts read alike); ``detail``: a
  failover's "from … to …". Added in place: a rebuilt table would lose its append-only triggers.
- ``v_delivery_log`` shows both.

Revision ID: 0021
Revises: 0020
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from licence_reminder.schema import view_sql

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

VIEW = "v_delivery_log"


def _grant(verb: str = "GRANT") -> None:
    bind = op.get_bind()
    if bind.dialect.name not in {"mysql", "mariadb"}:
        return
    database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
    op.execute(
        f"{verb} SELECT ON `{database}`.`{VIEW}` {'TO' if verb == 'GRANT' else 'FROM'} licence_auditor"
    )


def upgrade() -> None:
    op.create_table(
        "sms_provider_health",
        sa.Column("conn_id", sa.String(250), primary_key=True),
        sa.Column("cooldown_until", sa.DateTime(), nullable=True),
        sa.Column("tripped_at", sa.DateTime(), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("switched_off", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("switched_by", sa.String(100), nullable=True),
        sa.Column("switched_at", sa.DateTime(), nullable=True),
        sa.Column("switch_reason", sa.String(500), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        mysql_engine="InnoDB",
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.add_column("delivery_attempt", sa.Column("gateway_conn_id", sa.String(250), nullable=True))
    op.add_column("delivery_attempt", sa.Column("detail", sa.String(500), nullable=True))
    op.execute(view_sql(VIEW, revision))
    _grant()


def downgrade() -> None:
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
    op.execute("ALTER TABLE delivery_attempt DROP COLUMN detail")
    op.execute("ALTER TABLE delivery_attempt DROP COLUMN gateway_conn_id")
    op.execute(view_sql(VIEW, "0002"))
    _grant()
    op.drop_table("sms_provider_health")
