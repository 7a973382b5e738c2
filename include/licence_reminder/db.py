"""Databases by Airflow connection id, and every difference between SQL dialects in one place.

The product speaks MySQL/MariaDB through PyMySQL (production), PostgreSQL through psycopg2 and
SQLite through the standard library. Credentials come only from Airflow Connections.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder.config import SQL_DIR, city_zone

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine


class ConnectionConfigError(ValueError):
    """An Airflow connection that cannot be turned into a database URL (not retryable)."""


_DRIVERS = {
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "sqlite": "sqlite",
}


@dataclass(frozen=True)
class Dialect:
    """What differs between the supported dialects, used by extract, ledger and CLI code."""

    name: str  # "mysql", "postgresql" or "sqlite"

    @property
    def sql_folder(self) -> str:
        return "mysql" if self.name == "mysql" else self.name

    @property
    def clock_sql(self) -> str:
        """The server's time now, as its own DATETIME defaults would stamp a row (SQLite: UTC)."""
        return "SELECT NOW()" if self.name == "mysql" else "SELECT CURRENT_TIMESTAMP"

    def quote(self, identifier: str) -> str:
        q = "`" if self.name == "mysql" else '"'
        if q in identifier or "\x00" in identifier:
            raise ValueError(f"identifier {identifier!r} contains a quote character")
        return f"{q}{identifier}{q}"

    @property
    def load_data_local(self) -> bool:
        """Bulk staging by ``LOAD DATA LOCAL INFILE`` (engine_from_url enables it for PyMySQL)."""
        return self.name == "mysql"

    def streaming_cursor(self, dbapi_conn: Any, chunk_size: int) -> Any:
        """A DB-API cursor that streams a query's rows from the server (bounded memory on big
        extracts) as plain tuples: SQLAlchemy's Row objects, which the extract only turns back
        into tuples, cost about a fifth of PyMySQL's own row parsing."""
        if self.name == "mysql":
            import pymysql.cursors

            return dbapi_conn.cursor(pymysql.cursors.SSCursor)
        if self.name == "postgresql":  # a named cursor is psycopg2's server-side cursor
            import uuid

            cursor = dbapi_conn.cursor(name=f"lr_extract_{uuid.uuid4().hex}")
            cursor.itersize = chunk_size
            return cursor
        return dbapi_conn.cursor()  # sqlite3 fetches lazily already

    @contextlib.contextmanager
    def times_as_text(self, dbapi_conn: Any) -> Iterator[None]:
        """PyMySQL turns every DATE, DATETIME and TIMESTAMP value into a Python object, a third
        of its row parsing; the validator parses them itself, from text as from those objects
        (dates once per distinct value, ``YYYY-MM-DD hh:mm:ss`` column-wise), and PyMySQL passes an
        invalid one such as 0000-00-00 as text anyway. For the block, the connection leaves
        those values as text; then it is as it was."""
        if self.name != "mysql":
            yield
            return
        from pymysql.constants import FIELD_TYPE

        decoders = dbapi_conn.decoders  # the connection's own copy
        saved = {
            t: decoders.pop(t)
            for t in (FIELD_TYPE.DATE, FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP)
            if t in decoders
        }
        try:
            yield
        finally:
            decoders.update(saved)


#: keys of a connection's extra handed to the driver as they are, by driver: libpq's TLS keys for
#: PostgreSQL, the ones SQLAlchemy gives PyMySQL for MySQL/MariaDB
_PASSED_EXTRAS = {
    "postgresql": frozenset({"sslmode", "sslrootcert", "sslcert", "sslkey", "connect_timeout"}),
    "mysql": frozenset(
        {"charset", "ssl_ca", "ssl_cert", "ssl_key", "ssl_check_hostname", "connect_timeout"}
    ),
}
_LIBPQ_TLS = {"sslmode": None, "sslrootcert": "ssl_ca", "sslcert": "ssl_cert", "sslkey": "ssl_key"}


def connection_url(conn: Any) -> str:
    """SQLAlchemy URL from an Airflow-Connection-like object (conn_type, host, login, ...)."""
    from sqlalchemy.engine import URL

    conn_type = (conn.conn_type or "").lower()
    driver = _DRIVERS.get(conn_type)
    if driver is None:
        raise ConnectionConfigError(
            f"connection {conn.conn_id!r}: conn_type {conn.conn_type!r} is not a supported "
            f"database; use one of {sorted(_DRIVERS)}"
        )
    extra = dict(conn.extra_dejson or {})
    if driver == "sqlite":
        path = conn.host or conn.schema or extra.get("path")
        if not path:
            raise ConnectionConfigError(
                f"connection {conn.conn_id!r}: a sqlite connection needs the file path in host"
            )
        return f"sqlite:///{path}"
    family = "mysql" if driver.startswith("mysql") else "postgresql"
    query = {str(k): str(v) for k, v in extra.items() if k in _PASSED_EXTRAS[family]}
    if family == "mysql" and (libpq := sorted(set(extra) & set(_LIBPQ_TLS))):
        mysql = {k: _LIBPQ_TLS[k] for k in libpq if _LIBPQ_TLS[k]}
        raise ConnectionConfigError(
            f"connection {conn.conn_id!r}: extra {libpq} are PostgreSQL's TLS keys; a MySQL/MariaDB "
            f"connection takes ssl_ca, ssl_cert, ssl_key and ssl_check_hostname"
            + (f" ({', '.join(f'{a} → {b}' for a, b in mysql.items())})" if mysql else "")
        )
    if driver.startswith("mysql"):
        query.setdefault("charset", "utf8mb4")
        if zone := extra.get("time_zone"):
            # The session's zone: TIMESTAMP columns and NOW() (the lookback's clock) both follow it.
            if not re.fullmatch(r"[+-]\d{2}:\d{2}|[A-Za-z]+(?:/[A-Za-z_]+)*", str(zone)):
                raise ConnectionConfigError(
                    f"connection {conn.conn_id!r}: extra time_zone {zone!r} is neither an offset such "
                    f"as '+08:00' nor a zone name (which needs the server's time zone tables)"
                )
            query["init_command"] = f"SET time_zone = '{zone}'"
    else:
        # PostgreSQL compares a timestamptz stamp with the watermark, a naive time in the city's
        # zone, by the session's zone: the server's own (UTC, often) put the bound 8 hours off
        # and rows stamped in those hours were never read.
        options = [f"-c timezone={city_zone()}"]
        if extra.get("search_path"):  # the schemas an unqualified table name is looked up in
            options.append(f"-c search_path={extra['search_path']}")
        query["options"] = " ".join(options)
    return URL.create(
        driver,
        username=conn.login or None,
        password=conn.password or None,
        host=conn.host or None,
        port=conn.port or None,
        database=conn.schema or None,
        query=query,
    ).render_as_string(hide_password=False)


def get_airflow_connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def engine_from_url(url: str, **kwargs: Any) -> Engine:
    from sqlalchemy import create_engine, event

    # A statement's error carries its bound values otherwise (a staged row's ID number), and task
    # logs print the error chain.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if url.startswith("mysql"):
        # Departments sync into one ledger at the same time, each run one long transaction. Under
        # InnoDB's REPEATABLE READ, INSERT ... SELECT share-locks every row it scans (the other
        # runs' uncommitted staged rows too) and gap locks hold up the other runs' inserts: two
        # departments starting or merging together deadlocked. PostgreSQL reads committed anyway.
        kwargs.setdefault("isolation_level", "READ COMMITTED")
        kwargs.setdefault("connect_args", {}).setdefault("local_infile", True)
        kwargs["connect_args"].setdefault("connect_timeout", 10)
    if url.startswith("postgresql"):
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 10)
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


@functools.cache
def engine_for(conn_id: str) -> Engine:
    """One engine per connection id per process."""
    return engine_from_url(connection_url(get_airflow_connection(conn_id)))


def dialect_of(bind: Engine | Connection) -> Dialect:
    name = bind.dialect.name
    return Dialect("mysql" if name in {"mysql", "mariadb"} else name)


@functools.cache
def _sql_text(relative: str) -> str:
    # Leading comment lines are dropped: PyMySQL batches executemany() into multi-row INSERTs
    # only when the statement itself starts with INSERT (about 15x faster).
    lines = (SQL_DIR / relative).read_text(encoding="utf-8").splitlines()
    return "\n".join(ln for ln in lines if not ln.lstrip().startswith("--")).strip()


def sql_source(name: str, bind: Engine | Connection) -> str:
    """The text of ``include/sql/<dialect>/<name>.sql`` if present, else ``include/sql/<name>.sql``."""
    folder = dialect_of(bind).sql_folder
    specific = Path(folder) / f"{name}.sql"
    return _sql_text(str(specific) if (SQL_DIR / specific).is_file() else f"{name}.sql")


def sql(name: str, bind: Engine | Connection) -> Any:
    """The statement :func:`sql_source` names, ready to execute with bound values."""
    from sqlalchemy import text

    return text(sql_source(name, bind))
