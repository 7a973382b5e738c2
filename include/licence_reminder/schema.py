"""Apply the product's schema migrations (Alembic, ``include/migrations``) to the ledger database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from licence_reminder.config import INCLUDE_DIR

if TYPE_CHECKING:
    from sqlalchemy import Engine


def _alembic_config(connection: object):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(INCLUDE_DIR / "migrations"))
    cfg.attributes["connection"] = connection
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the schema to ``revision``; returns the revision now current. Idempotent."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), revision)
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.begin() as conn:
        command.downgrade(_alembic_config(conn), revision)


def current(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
