"""Auditor views over the delivery audit, and a read-only auditor role (MySQL/MariaDB).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

from licence_reminder.config import SQL_DIR

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: Views an auditor may read: no full mobile, no ID number, no message text (its hash only).
AUDITOR_VIEWS = (
    "v_delivery_log",
    "v_delivery_daily",
    "v_delivery_monthly",
    "v_expired_without_delivery",
)
AUDITOR_ROLE = "licence_auditor"


def upgrade() -> None:
    for view in AUDITOR_VIEWS:
        op.execute((SQL_DIR / "views" / f"{view}.sql").read_text(encoding="utf-8"))
    bind = op.get_bind()
    if bind.dialect.name in {"mysql", "mariadb"}:
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        op.execute(f"CREATE ROLE IF NOT EXISTS {AUDITOR_ROLE}")
        for view in AUDITOR_VIEWS:
            op.execute(f"GRANT SELECT ON `{database}`.`{view}` TO {AUDITOR_ROLE}")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name in {"mysql", "mariadb"}:
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        for view in AUDITOR_VIEWS:
            op.execute(f"REVOKE SELECT ON `{database}`.`{view}` FROM {AUDITOR_ROLE}")
    for view in reversed(AUDITOR_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
