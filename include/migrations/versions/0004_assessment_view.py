"""The assessor's yearly figures per department (``v_assessment_yearly``), readable by auditors.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op
from licence_reminder.schema import view_sql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEW = "v_assessment_yearly"
#: the expiry date a renewal replaced, kept in ledger_history.old_values (JSON)
OLD_EXPIRY = {
    "mysql": "CAST(JSON_VALUE(h.old_values, '$.expiry_date') AS DATE)",
    "sqlite": "json_extract(h.old_values, '$.expiry_date')",
}


def upgrade() -> None:
    bind = op.get_bind()
    dialect = "mysql" if bind.dialect.name in {"mysql", "mariadb"} else bind.dialect.name
    text = view_sql(VIEW, revision)
    op.execute(text.replace("{old_expiry}", OLD_EXPIRY[dialect]))
    if dialect == "mysql":
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        op.execute(f"GRANT SELECT ON `{database}`.`{VIEW}` TO licence_auditor")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name in {"mysql", "mariadb"}:
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        op.execute(f"REVOKE SELECT ON `{database}`.`{VIEW}` FROM licence_auditor")
    op.execute(f"DROP VIEW IF EXISTS {VIEW}")
