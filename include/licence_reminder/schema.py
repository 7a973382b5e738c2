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
    """Bring the schema to ``revision``; returns the revision now current. Idempotent.

    One transaction per revision: MySQL/MariaDB commit each DDL statement as it comes, so a
    revision that fails must not roll back the recorded version of the revisions before it (their
    tables would stay, unrecorded, and the next upgrade would try to create them again)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    script = ScriptDirectory.from_config(_alembic_config(None))
    steps = [r.revision for r in script.iterate_revisions(revision, current)]
    for step in reversed(steps):
        with engine.begin() as conn:
            command.upgrade(_alembic_config(conn), step)
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


# --- DDL shared by migrations (a later revision re-creates what an earlier one made) --------------

#: a ledger row's insertion: what no UPDATE may change (migration 0009)
LEDGER_INSERTION_FIXED = ("id", "dept_code", "licence_no", "created_run", "created_at")
_LEDGER_INSERTION_MESSAGE = (
    "ledger: a licence's insertion (id, dept_code, licence_no, created_run, "
    "created_at) cannot change"
)


def _is_mysql(dialect: str) -> bool:
    return dialect in {"mysql", "mariadb"}


def ledger_insertion_trigger(dialect: str) -> str:
    """The trigger that makes the database refuse any change to a ledger row's insertion."""
    message = _LEDGER_INSERTION_MESSAGE.replace("'", "''")
    if _is_mysql(dialect):
        changed = " OR ".join(f"NEW.{c} <> OLD.{c}" for c in LEDGER_INSERTION_FIXED)
        return (
            f"CREATE TRIGGER ledger_insertion_fixed BEFORE UPDATE ON ledger FOR EACH ROW "
            f"BEGIN IF {changed} THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'; END IF; END"
        )
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LEDGER_INSERTION_FIXED)
    return (
        f"CREATE TRIGGER ledger_insertion_fixed BEFORE UPDATE OF {', '.join(LEDGER_INSERTION_FIXED)} "
        f"ON ledger WHEN {changed} BEGIN SELECT RAISE(ABORT, '{message}'); END"
    )


def append_only_triggers(table: str, dialect: str) -> list[tuple[str, str]]:
    """(name, CREATE TRIGGER) of the triggers that make the database refuse any UPDATE or DELETE
    on an audit table, whoever asks (migration 0003)."""
    out = []
    for event in ("UPDATE", "DELETE"):
        name, message = f"{table}_no_{event.lower()}", f"{table} is append-only: {event} refused"
        if _is_mysql(dialect):
            out.append(
                (
                    name,
                    (
                        f"CREATE TRIGGER {name} BEFORE {event} ON {table} FOR EACH ROW "
                        f"SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{message}'"
                    ),
                )
            )
        else:
            out.append(
                (
                    name,
                    (
                        f"CREATE TRIGGER {name} BEFORE {event} ON {table} "
                        f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                    ),
                )
            )
    return out


def view_sql(view: str, revision: str) -> str:
    """A view's CREATE statement as migration ``revision`` made it: ``sql/views/<revision>/``
    holds the definitions later revisions replaced (a migration must create what it created
    then, not what a later one needs), ``sql/views/`` the current ones."""
    from licence_reminder.config import SQL_DIR

    frozen = SQL_DIR / "views" / revision / f"{view}.sql"
    path = frozen if frozen.is_file() else SQL_DIR / "views" / f"{view}.sql"
    return path.read_text(encoding="utf-8")


def head() -> str:
    """The newest revision the migrations define."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config(None)).get_current_head()
    assert head is not None
    return head
