"""Auditor views over the delivery audit, and a read-only auditor role (MySQL/MariaDB).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op
from licence_reminder.schema import view_sql

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
        op.execute(view_sql(view, revision))
    bind = op.get_bind()
    if bind.dialect.name in {"mysql", "mariadb"}:
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        _create_role(bind)
        for view in AUDITOR_VIEWS:
            _grant(bind, f"GRANT SELECT ON `{database}`.`{view}` TO {AUDITOR_ROLE}")


def _create_role(bind) -> None:  # type: ignore[no-untyped-def]
    """The role is server-wide: an account that owns only the ledger database may not create it
    (MariaDB asks for CREATE USER even with IF NOT EXISTS). Then a DBA creates it once, as root
    (docs/deploy.md; the compose file's MariaDB does it at its first start), and the grants go to
    it."""
    import sqlalchemy as sa

    try:
        bind.exec_driver_sql(f"CREATE ROLE IF NOT EXISTS {AUDITOR_ROLE}")
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "args", (None,))[0] != 1227:  # access denied: left to the DBA
            raise


def _grant(bind, statement: str) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa

    try:
        bind.exec_driver_sql(statement)
    except sa.exc.DBAPIError as exc:
        if getattr(exc.orig, "args", (None,))[0] == 1133:  # no such role
            raise RuntimeError(
                f"the role {AUDITOR_ROLE} does not exist and this account may not create it: as "
                f"root, run CREATE ROLE {AUDITOR_ROLE}; then db upgrade again (docs/deploy.md)"
            ) from None
        raise


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name in {"mysql", "mariadb"}:
        database = bind.exec_driver_sql("SELECT DATABASE()").scalar()
        for view in AUDITOR_VIEWS:
            op.execute(f"REVOKE SELECT ON `{database}`.`{view}` FROM {AUDITOR_ROLE}")
    for view in reversed(AUDITOR_VIEWS):
        op.execute(f"DROP VIEW IF EXISTS {view}")
