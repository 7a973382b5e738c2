"""The daily and monthly delivery views also count the carriers' reports (delivered or not).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op
from licence_reminder.schema import view_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

VIEWS = ("v_delivery_daily", "v_delivery_monthly")


def upgrade() -> None:
    bind = op.get_bind()
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
        op.execute(view_sql(view, revision))
        if bind.dialect.name in {"mysql", "mariadb"}:
            database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
            op.execute(f"GRANT SELECT ON `{database}`.`{view}` TO licence_auditor")


def downgrade() -> None:
    """The views keep their new columns: the older definitions are not kept anywhere."""
