"""Blocks of a query's rows, the sync's one way of reading a database (a department's source, or
the ledger for its index).

connectorx, a maintained reader that goes from the server's wire protocol straight to Arrow in
Rust, reads MySQL/MariaDB and PostgreSQL (docs/adr/0005-reader.md has the measurements). The
driver's own cursor (DB-API: PyMySQL, psycopg2, sqlite3) reads what connectorx cannot:

- SQLite: a column there may hold values of several types, and connectorx takes one per column;
- a connection with TLS keys (``ssl_ca``…, ``sslmode``…): connectorx's URL does not carry them;
- a query with bound text values (a licence number is never written into SQL): connectorx binds
  nothing, so only numbers and times this module renders itself go into its SQL.

Both readers run the connection's session settings first (the statement timeout, a MySQL
``time_zone``, PostgreSQL's zone and ``search_path``), and both return dates and times as text
(``CAST(… AS CHAR)``): a register's zero date (``0000-00-00``) or PostgreSQL's ``infinity`` is a
value the validator rejects with a reason, not a reader's failure.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

from licence_reminder.db import dialect_of
from licence_reminder.errors import PermanentError, TransientError, classify_db_error, redact_values

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

#: connection query keys connectorx's URL cannot carry: such a connection is read by its driver
_TLS_KEYS = frozenset(
    {
        "ssl_ca",
        "ssl_cert",
        "ssl_key",
        "ssl_check_hostname",
        "sslmode",
        "sslrootcert",
        "sslcert",
        "sslkey",
    }
)
#: MySQL's type codes read as text (pymysql.constants.FIELD_TYPE): dates and times (TIMESTAMP,
#: DATE, TIME, DATETIME, YEAR, NEWDATE), and NULL (``NULL AS applied_on``), a type connectorx lacks
_MYSQL_TIMES = frozenset({6, 7, 10, 11, 12, 13, 14})
#: PostgreSQL's type oids of dates and times: date, time, timestamp, timestamptz, timetz, interval
_PG_TIMES = frozenset({1082, 1083, 1114, 1184, 1266, 1186})
_PG_TIMESTAMPTZ = 1184


@dataclass
class Block:
    """Rows of a query: Arrow arrays (connectorx) or the driver's tuples (DB-API)."""

    names: list[str]
    batch: pa.RecordBatch | None = None
    rows: list[tuple[Any, ...]] | None = None

    def __len__(self) -> int:
        return self.batch.num_rows if self.batch is not None else len(self.rows or [])

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame: text Arrow-backed (pandas ``str``), integers exact (nullable
        Int64), decimals and bytes as Python objects."""
        import numpy as np
        import pandas as pd

        if self.batch is None:
            return pd.DataFrame.from_records(self.rows or [], columns=self.names)
        import pyarrow as pa

        text = pd.StringDtype(storage="pyarrow", na_value=np.nan)

        def mapped(t: pa.DataType) -> Any:
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                return text
            if pa.types.is_integer(t):
                return pd.UInt64Dtype() if t == pa.uint64() else pd.Int64Dtype()
            return None

        frame = self.batch.to_pandas(types_mapper=mapped)
        frame.columns = self.names  # names may repeat (SELECT a.x, b.x)
        return frame

    def objects(self, k: int) -> list[Any]:
        """Column ``k`` as Python values."""
        if self.batch is not None:
            return self.batch.column(k).to_pylist()
        return [r[k] for r in self.rows or []]

    def row(self, i: int) -> tuple[Any, ...]:
        if self.batch is not None:
            return tuple(self.batch.column(k)[i].as_py() for k in range(self.batch.num_columns))
        return (self.rows or [])[i]


@dataclass(frozen=True)
class Session:
    """What a query's session needs first, in SQL."""

    statements: tuple[str, ...] = ()


def session_for(engine: Engine, timeout_seconds: int | None) -> Session:
    """The engine's session settings (from its connection URL) and the statement timeout."""
    from sqlalchemy.engine import make_url

    url = make_url(engine.url)
    name = dialect_of(engine).name
    out: list[str] = []
    if name == "mysql":
        if command := url.query.get("init_command"):  # SET time_zone = '…' (db.connection_url)
            out.append(str(command))
        if timeout_seconds:
            out.append(_mysql_timeout(engine, timeout_seconds))
    elif name == "postgresql":
        options = str(
            url.query.get("options", "")
        )  # -c timezone=… -c search_path=… (db.connection_url)
        for key, value in re.findall(r"-c\s*([A-Za-z_]+)=(\S+)", options):
            if not re.fullmatch(r"[A-Za-z0-9_/+,-]+", value):
                raise PermanentError(
                    f"connection option {key}={value!r} holds characters a session "
                    "setting cannot take"
                )
            out.append(
                f"SET {key} TO {value}" if key == "search_path" else f"SET {key} TO '{value}'"
            )
        if timeout_seconds:
            out.append(f"SET statement_timeout = {int(timeout_seconds) * 1000}")
    return Session(tuple(out))


_MARIADB: dict[str, bool] = {}


def _mysql_timeout(engine: Engine, seconds: int) -> str:
    """MariaDB's statement timeout in seconds, MySQL 8's in milliseconds."""
    server = engine.url.render_as_string(hide_password=True)
    if server not in _MARIADB:
        from sqlalchemy import text

        with engine.connect() as conn:
            _MARIADB[server] = (
                "mariadb" in str(conn.execute(text("SELECT VERSION()")).scalar()).lower()
            )
    return (
        f"SET SESSION max_statement_time = {int(seconds)}"
        if _MARIADB[server]
        else f"SET SESSION max_execution_time = {int(seconds) * 1000}"
    )


class Code(str):
    """A code the registry validated (a department's: letters, digits and _ only): the one kind of
    text :func:`literal` writes into SQL."""

    def __new__(cls, value: str) -> Self:
        if not re.fullmatch(r"[A-Za-z0-9_]{1,64}", value):
            raise ValueError(f"{value!r} is not a code")
        return super().__new__(cls, value)


def literal(value: object) -> str:
    """A number, a time or a :class:`Code` as SQL text, for connectorx (which binds nothing).
    Only what this module can render exactly is accepted; other text never is (it goes to a
    bound parameter, through the driver)."""
    if isinstance(value, Code):
        return f"'{value}'"
    if isinstance(value, bool) or not isinstance(value, int | float | dt.date):
        raise TypeError(f"{type(value).__name__} values are bound, never written into SQL")
    if isinstance(value, dt.datetime):
        return (
            f"TIMESTAMP '{value.replace(tzinfo=None).isoformat(sep=' ', timespec='microseconds')}'"
        )
    if isinstance(value, dt.date):
        return f"DATE '{value.isoformat()}'"
    return repr(value)


def _rendered(query: str, params: dict[str, Any]) -> str | None:
    """The query with its parameters written in, or None when one of them is text."""
    names = sorted(params, key=len, reverse=True)  # :n10 before :n1
    for name in names:
        try:
            value = literal(params[name])
        except TypeError:
            return None
        query = re.sub(rf":{name}\b", lambda _m, v=value: v, query)
    return query


def connectorx_url(engine: Engine) -> str | None:
    """The engine's URL as connectorx takes it, or None when connectorx cannot read it."""
    from sqlalchemy.engine import make_url

    url = make_url(engine.url)
    name = dialect_of(engine).name
    if name not in ("mysql", "postgresql") or _TLS_KEYS & set(url.query):
        return None
    charset = str(url.query.get("charset", "utf8mb4")).lower()
    if name == "mysql" and charset not in ("utf8mb4", "utf8", "utf8mb3"):
        return None  # connectorx talks utf8mb4: a register read through another charset keeps its driver
    scheme = "mysql" if name == "mysql" else "postgresql"
    return url.set(drivername=scheme, query={}).render_as_string(hide_password=False)


def column_names(conn: Connection, query: str, params: dict[str, Any]) -> list[str]:
    """The names of a query's columns, asked of the server for none of its rows."""
    return time_columns(conn, query, params)[0]


def time_columns(
    conn: Connection, query: str, params: dict[str, Any]
) -> tuple[list[str], set[int], set[int]]:
    """(column names, positions of date and time columns, those of them with a zone) of a
    query's result, asked of the server for none of its rows."""
    from sqlalchemy import text

    name = dialect_of(conn).name
    probe = f"SELECT * FROM (\n{query}\n) probe WHERE 1 = 0"
    result = conn.execute(text(probe), params)
    cursor = result.cursor
    description = cursor.description if cursor is not None else []
    result.close()
    names = [d[0] for d in description]
    if name == "mysql":
        times = {k for k, d in enumerate(description) if d[1] in _MYSQL_TIMES}
    elif name == "postgresql":
        times = {k for k, d in enumerate(description) if d[1] in _PG_TIMES}
    else:
        times = set()
    zoned = {k for k in times if name == "postgresql" and description[k][1] == _PG_TIMESTAMPTZ}
    return names, times, zoned


def as_text_query(conn: Connection, query: str, params: dict[str, Any]) -> str:
    """The query with its date and time columns read as text (see the module's docstring)."""
    names, times, times_zoned = time_columns(conn, query, params)
    if not times:
        return query
    dialect = dialect_of(conn)

    def as_text(k: int, name: str) -> str:
        column = f"t.{dialect.quote(name)}"
        if k not in times:
            return column
        if dialect.name == "mysql":
            return f"CAST({column} AS CHAR) AS {dialect.quote(name)}"
        if k in zoned:  # the session's zone is the city's: its local time, written without a zone
            column = f"CAST({column} AS timestamp)"
        return f"CAST({column} AS TEXT) AS {dialect.quote(name)}"

    zoned = set(times_zoned)
    return f"SELECT {', '.join(as_text(k, n) for k, n in enumerate(names))} FROM (\n{query}\n) t"


def read(
    engine: Engine,
    query: str,
    params: dict[str, Any],
    batch_rows: int,
    *,
    what: str,
    timeout_seconds: int | None = None,
    times_as_text: bool = True,
    bulk: bool = True,
) -> Iterator[Block]:
    """Blocks of at most ``batch_rows`` rows of ``query``, streamed; errors say ``what`` was read.
    ``bulk=False``: a small query, read through the driver (connectorx's setup costs more)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        session = session_for(engine, timeout_seconds)
        with engine.connect() as conn:
            for statement in session.statements:
                conn.exec_driver_sql(statement)
            if times_as_text:
                query = as_text_query(conn, query, params)
            url, rendered = connectorx_url(engine) if bulk else None, _rendered(query, params)
            if url is not None and rendered is not None:
                conn.close()  # connectorx opens its own
                yield from _connectorx(url, rendered, session, batch_rows, what=what)
                return
            yield from _dbapi(conn, query, params, batch_rows)
    except SQLAlchemyError as exc:
        raise classify_db_error(exc, what=what) from exc


def _connectorx(
    url: str, query: str, session: Session, batch_rows: int, *, what: str
) -> Iterator[Block]:
    import connectorx as cx

    try:
        reader = cx.read_sql(
            url,
            query,
            return_type="arrow_stream",
            batch_size=batch_rows,
            pre_execution_query=list(session.statements) or None,
        )
        names = list(reader.schema.names)
        for batch in reader:
            if batch.num_rows:
                yield Block(names, batch=batch)
    except BaseException as exc:  # a Rust panic is a BaseException: said as an error of the read
        if isinstance(exc, (KeyboardInterrupt, SystemExit, GeneratorExit)):
            raise
        raise _connectorx_error(exc, what) from None


#: the server's error inside connectorx's: PostgreSQL's SQLSTATE and message, MySQL's code and text
_PG_ERROR = re.compile(
    r'code: SqlState\(E?(?P<state>[0-9A-Z]{5})\).*?message: "(?P<text>(?:[^"\\]|\\.)*)"', re.DOTALL
)
_MYSQL_ERROR = re.compile(
    r"ERROR (?P<code>\d+) \((?P<state>\w+)\): (?P<text>.*?)(?: }|$)", re.DOTALL
)
#: connectorx's own errors that a retry may not meet again: the connection gone or refused
_TRANSIENT = re.compile(
    r"(?i)connection (refused|reset|closed|lost)|broken pipe|timed? ?out|"
    r"server has gone away|too many connections|io error|unexpected eof"
)


def _connectorx_error(exc: BaseException, what: str) -> Exception:
    """connectorx's error as the product's: the server's own, classified as its driver's would be
    (errors.classify_server_error); a value it could not convert; or its connection's failure."""
    from licence_reminder.errors import classify_server_error

    text = str(exc)
    if m := _PG_ERROR.search(text):
        return classify_server_error(
            what=what, text=m.group("text").replace('\\"', '"'), sqlstate=m.group("state")
        )
    if m := _MYSQL_ERROR.search(text):
        return classify_server_error(what=what, text=m.group("text"), code=int(m.group("code")))
    message = redact_values(text.splitlines()[0] if text else type(exc).__name__)[:500]
    if type(exc).__name__ == "PanicException":
        return PermanentError(
            f"{what}: the reader could not convert a value ({message}): read that "
            "column as text in the SQL, e.g. CAST(col AS CHAR)"
        )
    if _TRANSIENT.search(message):
        return TransientError(f"{what}: {message}")
    return PermanentError(f"{what}: {message}")


def _dbapi(
    conn: Connection, query: str, params: dict[str, Any], batch_rows: int
) -> Iterator[Block]:
    """The driver's own streaming cursor (PyMySQL's SSCursor, a psycopg2 named cursor, sqlite3's
    lazy fetch), its errors raised as SQLAlchemy would wrap them."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    dialect = dialect_of(conn)
    compiled = text(query).compile(dialect=conn.dialect)
    bound = compiled.construct_params(params)
    values = [bound[k] for k in compiled.positiontup or ()] if compiled.positional else bound
    dbapi_conn = conn.connection.dbapi_connection
    try:
        cursor = dialect.streaming_cursor(dbapi_conn, batch_rows)
        try:
            cursor.execute(str(compiled), values)
            rows = cursor.fetchmany(batch_rows)
            # psycopg2's named cursors describe the result only once fetched from
            names = [d[0] for d in cursor.description] if cursor.description else []
            while rows:
                yield Block(names, rows=rows)
                rows = cursor.fetchmany(batch_rows)
        finally:
            with contextlib.suppress(Exception):  # an early stop: the connection is dropped below
                cursor.close()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(
            str(compiled), values, exc, conn.dialect.loaded_dbapi.Error, dialect=conn.dialect
        ) from exc
    except GeneratorExit:  # stopped mid-result: draining it would take as long as reading it
        conn.invalidate()
        raise


def query_one(
    engine: Engine,
    query: str,
    params: dict[str, Any],
    *,
    what: str,
    timeout_seconds: int | None = None,
) -> tuple[Any, ...]:
    """The first row of a small query (read to the end, so the connection goes back clean)."""
    blocks = list(
        read(
            engine,
            query,
            params,
            10,
            what=what,
            timeout_seconds=timeout_seconds,
            times_as_text=False,
            bulk=False,
        )
    )
    return blocks[0].row(0) if blocks and len(blocks[0]) else ()
