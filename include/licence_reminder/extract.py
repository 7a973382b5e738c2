"""One generic extractor: a department's extract SQL, streamed in chunks onto the canonical record."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder.db import Dialect, dialect_of
from licence_reminder.errors import PermanentError, classify_db_error
from licence_reminder.records import CANONICAL_COLUMNS, REQUIRED_COLUMNS, SOURCE_KEY
from licence_reminder.registry import Department, select_problem

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)


SplitRange = tuple[int | None, int | None]
"""One worker's share of the split column: ``lo <= value < hi``; no lower bound (``lo`` None) also
takes the rows whose value is NULL, no upper bound takes everything above ``lo``."""


def extract_query(dept: Department, dialect: Dialect, *, incremental: bool,
                  split_range: SplitRange | None = None, columns: tuple[str, ...] | None = None) -> str:
    """The department's SQL wrapped as a derived table, filtered on the watermark when incremental
    and to the split column's ``split_range`` (one worker's share; bounds bound as ``:split_lo``
    and ``:split_hi``, see :func:`query_params`).

    Wrapping keeps the DBA's SQL as they wrote it; every engine here pushes the outer conditions
    down into the derived table, so indexes on the watermark and split columns are still used.
    """
    inner = dept.extract_sql_text().strip().rstrip(";").strip()
    if problem := select_problem(inner):
        field = "source.extract_sql_file" if dept.source.extract_sql_file else "source.extract_sql"
        raise PermanentError(f"department {dept.code}: field {field!r} {problem}")
    selected = ", ".join(f"src.{dialect.quote(c)}" for c in columns) if columns else "src.*"
    query = f"SELECT {selected} FROM (\n{inner}\n) src"
    where = []
    if incremental:
        column = dept.source.columns.get(
            dept.source.sync.watermark_column, dept.source.sync.watermark_column
        )
        col = f"src.{dialect.quote(column)}"
        if dialect.name == "sqlite":  # text timestamps: compare normalised, not as strings
            where.append(f"datetime({col}) > datetime(:watermark)")
        else:
            where.append(f"{col} > :watermark")
    if split_range is not None:
        col = f"src.{dialect.quote(str(dept.source.sync.split_column))}"
        lo, hi = split_range
        if lo is not None:
            where.append(f"{col} >= :split_lo")
        if hi is not None:
            where.append(f"({col} < :split_hi OR {col} IS NULL)" if lo is None else f"{col} < :split_hi")
    if where:
        query += "\nWHERE " + " AND ".join(where)
    return query


def _apply_timeout(conn: Connection, dialect: Dialect, seconds: int) -> None:
    from sqlalchemy import text

    if dialect.name == "mysql":
        try:  # MariaDB, in seconds
            conn.execute(text(f"SET SESSION max_statement_time = {int(seconds)}"))
        except Exception:  # MySQL 8, in milliseconds
            conn.execute(text(f"SET SESSION max_execution_time = {int(seconds) * 1000}"))
    elif dialect.name == "postgresql":
        conn.execute(text(f"SET statement_timeout = {int(seconds) * 1000}"))


def to_canonical(frame: pd.DataFrame, dept: Department) -> pd.DataFrame:
    """Rename mapped columns, add constants and absent optional columns; keep canonical order."""
    returned = list(frame.columns)
    mapping = dept.source.columns
    unknown = {canon: src for canon, src in mapping.items() if src not in returned}
    if unknown:
        raise PermanentError(
            f"department {dept.code}: field 'source.columns': {unknown} name column(s) the extract "
            f"does not return (it returned {returned})")
    both = sorted(canon for canon, src in mapping.items() if canon in returned and canon != src)
    if both:
        raise PermanentError(
            f"department {dept.code}: field 'source.columns': the extract already returns {both}; "
            f"alias the column in the SQL or map it here, not both")
    # one column may feed several fields (a sole trader: holder and contact are the same person)
    renamed: dict[str, str] = {}
    copies: list[tuple[str, str]] = []
    for canon, src in mapping.items():
        if src in renamed:
            copies.append((canon, renamed[src]))
        else:
            renamed[src] = canon
    frame = frame.rename(columns=renamed)
    for canon, first in copies:
        frame[canon] = frame[first]
    overridden = sorted(set(dept.source.constants) & set(frame.columns))
    if overridden:
        raise PermanentError(
            f"department {dept.code}: field 'source.constants': the extract also returns {overridden}; "
            f"drop the constant or the column")
    for canon, value in dept.source.constants.items():
        frame[canon] = value
    missing_required = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing_required:
        raise PermanentError(
            f"department {dept.code}: the extract returns no column for {missing_required}; "
            f"alias them in source.extract_sql or map them in source.columns "
            f"(it returned {sorted(frame.columns)})"
        )
    for canon in CANONICAL_COLUMNS:
        if canon not in frame.columns:
            frame[canon] = None
    return frame[list(CANONICAL_COLUMNS)]


def stream_chunks(
    engine: Engine,
    dept: Department,
    *,
    watermark: dt.datetime | None,
    limit: int | None = None,
    split_range: SplitRange | None = None,
) -> Iterator[pd.DataFrame]:
    """Yield canonical DataFrames of at most ``chunk_size`` rows, over a server-side cursor;
    only the rows of ``split_range`` when given."""
    import pandas as pd

    dialect = dialect_of(engine)
    sync = dept.source.sync
    incremental = watermark is not None
    query = extract_query(dept, dialect, incremental=incremental, split_range=split_range)
    if limit is not None:
        query += f"\nLIMIT {int(limit)}"
    chunk_size = min(sync.chunk_size, limit) if limit else sync.chunk_size
    for block in stream_rows(engine, dept, query, query_params(watermark, split_range), chunk_size):
        frame = to_canonical(block.frame(), dept)
        if sync.split_column in block.names:  # beside the record, to find a rejected row by; taken
            # from the values as read: in a frame, a BIGINT column with a NULL becomes float
            frame[SOURCE_KEY] = pd.Series(block.objects(block.names.index(sync.split_column)),
                                          index=frame.index, dtype=object)
        yield frame


def licence_numbers(engine: Engine, dept: Department, *, batch: int = 100_000) -> Iterator[list[Any]]:
    """Every licence number of the department's whole extract, as the source returns them, in
    batches: one column, read through the same streaming cursor as the extract."""
    dialect = dialect_of(engine)
    column = dialect.quote(dept.source.columns.get("licence_no", "licence_no"))
    query = f"SELECT v.{column} FROM ({extract_query(dept, dialect, incremental=False)}) v"
    for block in stream_rows(engine, dept, query, {}, batch):
        yield block.objects(0)


def rows_for_numbers(engine: Engine, dept: Department, numbers: list[str]) -> Iterator[pd.DataFrame]:
    """The whole extract's rows (canonical, with the split column's value beside them) whose
    licence number, trimmed, is one of ``numbers``: the rows of the numbers held more than once
    (duplicates.py). The source's collation may match more (case, trailing spaces): the caller
    compares again as the validator does."""
    import pandas as pd

    if not numbers:
        return
    dialect = dialect_of(engine)
    column = dialect.quote(dept.source.columns.get("licence_no", "licence_no"))
    names = [f"n{k}" for k in range(len(numbers))]
    query = (f"SELECT v.* FROM ({extract_query(dept, dialect, incremental=False)}) v "
             f"WHERE TRIM(v.{column}) IN ({', '.join(':' + n for n in names)})")
    split = dept.source.sync.split_column
    for block in stream_rows(engine, dept, query, dict(zip(names, numbers, strict=True)), 10_000):
        frame = to_canonical(block.frame(), dept)
        if split in block.names:
            frame[SOURCE_KEY] = pd.Series(block.objects(block.names.index(split)), index=frame.index,
                                          dtype=object)
        yield frame


@dataclass
class Applications:
    """The renewal applications of the department's side table (``source.renewals``)."""

    #: licence_no (normalised), applied_on (None: applied, date not given)
    frame: pd.DataFrame
    #: rows whose applied_on was given but is not a date: taken as applied, date not given
    unreadable_dates: int = 0


def renewal_applications(engine: Engine, dept: Department) -> Applications:
    """Every row of the department's renewal-application query, one per licence number (the
    latest date wins; a date beats none)."""
    import pandas as pd

    from licence_reminder.validation.rules import as_text, parse_date

    inner = (dept.renewals_sql_text() or "").strip().rstrip(";").strip()
    field = "source.renewals.sql_file" if dept.source.renewals and dept.source.renewals.sql_file else "source.renewals.sql"
    if problem := select_problem(inner):
        raise PermanentError(f"department {dept.code}: field {field!r} {problem}")
    dialect = dialect_of(engine)
    query = f"SELECT r.{dialect.quote('licence_no')}, r.{dialect.quote('applied_on')} FROM (\n{inner}\n) r"
    latest: dict[str, Any] = {}
    unreadable = 0
    try:
        for block in stream_rows(engine, dept, query, {}, 50_000):
            for number, applied in zip(block.objects(0), block.objects(1), strict=True):
                number = as_text(number)
                if number is None:
                    continue
                day = None
                if as_text(applied) is not None:
                    try:
                        day = parse_date(applied)
                    except ValueError:
                        unreadable += 1
                if number not in latest or (day is not None and (latest[number] is None or day > latest[number])):
                    latest[number] = day
    except PermanentError as exc:
        raise PermanentError(f"{exc} (in {field}: it must return the columns licence_no and applied_on)") from exc
    frame = pd.DataFrame({"licence_no": list(latest), "applied_on": list(latest.values())}, dtype=object)
    return Applications(frame, unreadable)


def query_one(engine: Engine, dept: Department, query: str, params: dict[str, Any]) -> tuple[Any, ...]:
    """The first row of a small query on the department's source (read to the end, so the
    connection goes back to its pool clean)."""
    return [block.row(0) for block in stream_rows(engine, dept, query, params, 1)][0]


def source_clock(engine: Engine, dept: Department) -> dt.datetime:
    """The source server's time now, in the frame its naive timestamps are read in (Asia/Shanghai):
    a server's zone-aware time is converted; a naive one is taken as it is, like the rows' stamps."""
    from licence_reminder.validation.rules import parse_datetime

    dialect = dialect_of(engine)
    (value,) = query_one(engine, dept, dialect.clock_sql, {})
    if dialect.name == "sqlite":  # CURRENT_TIMESTAMP is UTC text there
        value = dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
    return parse_datetime(value)


def query_params(watermark: dt.datetime | None, split_range: SplitRange | None) -> dict[str, Any]:
    """The bound values of :func:`extract_query`'s watermark and split conditions."""
    params: dict[str, Any] = {} if watermark is None else {"watermark": watermark}
    lo, hi = split_range or (None, None)
    if lo is not None:
        params["split_lo"] = lo
    if hi is not None:
        params["split_hi"] = hi
    return params


@dataclass
class Block:
    """Rows of a query, as the driver gave them: PyMySQL's wire reader gives whole columns
    (``mysql_stream``), the other drivers rows."""

    names: list[str]
    rows: list[tuple[Any, ...]] | None = None
    columns: list[Any] | None = None

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.columns[0]) if self.columns else 0

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame; text read off the wire stays Arrow-backed (pandas ``str``)."""
        import pandas as pd

        if self.rows is not None:
            return pd.DataFrame.from_records(self.rows, columns=self.names)
        frame = pd.DataFrame({k: _series(c) for k, c in enumerate(self.columns or [])})
        frame.columns = self.names  # names may repeat (SELECT a.x, b.x): not a dict's keys
        return frame

    def objects(self, k: int) -> list[Any]:
        """Column ``k`` as the driver's Python values."""
        if self.rows is not None:
            return [r[k] for r in self.rows]
        column = (self.columns or [])[k]
        return column.to_pylist() if hasattr(column, "to_pylist") else column.tolist()

    def row(self, i: int) -> tuple[Any, ...]:
        if self.rows is not None:
            return self.rows[i]
        return tuple(self.objects(k)[i] for k in range(len(self.names)))


def _series(column: Any) -> Any:
    import pandas as pd

    if hasattr(column, "to_pylist"):  # a pyarrow string array
        return pd.array(column, dtype="str")
    return column


def stream_rows(engine: Engine, dept: Department, query: str, params: dict[str, Any],
                chunk_size: int) -> Iterator[Block]:
    """Blocks of at most ``chunk_size`` rows of a query on the department's source (see
    :func:`blocks`), within its timeout; errors say what went wrong for the DBA."""
    from sqlalchemy.exc import SQLAlchemyError

    what = f"department {dept.code}: extract from connection {dept.source.conn_id!r}"
    try:
        with engine.connect() as conn:
            _apply_timeout(conn, dialect_of(engine), dept.source.sync.timeout_seconds)
            yield from blocks(conn, query, params, chunk_size)
    except SQLAlchemyError as exc:
        error = classify_db_error(exc, what=what)
        if any(s in str(error) for s in ("max_statement_time", "max_execution_time", "statement timeout")):
            raise type(error)(f"{error} (source.sync.timeout_seconds is {dept.source.sync.timeout_seconds}: "
                              "a query that needs longer will time out again; speed it up with an "
                              "index, or raise the setting)") from exc
        if "syntax" in str(error).lower() and re.search(r"""near ["']\)""", str(error)):
            raise type(error)(f"{error} (the ')' is the product's: your SQL runs inside a subquery, "
                              "so its end is incomplete — a trailing WHERE or AND, or a ';'?)") from exc
        raise error from exc


def blocks(conn: Connection, query: str, params: dict[str, Any], chunk_size: int) -> Iterator[Block]:
    """Blocks of at most ``chunk_size`` rows of a query, streamed: off the wire column by column
    for MySQL/MariaDB (``mysql_stream``), through the driver's own cursor otherwise (see
    ``Dialect.streaming_cursor``); dates and times may come as text (``Dialect.times_as_text``).
    The driver's errors are raised as SQLAlchemy would wrap them."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from licence_reminder import mysql_stream

    dialect = dialect_of(conn)
    # compiled by SQLAlchemy into the driver's parameter style, executed by the driver
    compiled = text(query).compile(dialect=conn.dialect)
    bound = compiled.construct_params(params)
    values = [bound[k] for k in compiled.positiontup or ()] if compiled.positional else bound
    dbapi_conn = conn.connection.dbapi_connection
    try:
        with dialect.times_as_text(dbapi_conn):
            if dialect.name == "mysql" and mysql_stream.supported(dbapi_conn):
                reader = mysql_stream.execute(dbapi_conn, str(compiled), values, chunk_size)
                try:
                    for chunk in reader:
                        yield Block(chunk.names, columns=chunk.columns)
                except BaseException:  # stopped mid-result: the reader closes the socket
                    reader.close()
                    if not mysql_stream.is_open(dbapi_conn):
                        conn.invalidate()
                    raise
                return
            cursor = dialect.streaming_cursor(dbapi_conn, chunk_size)
            try:
                cursor.execute(str(compiled), values)
                rows = cursor.fetchmany(chunk_size)
                # psycopg2's named cursors describe the result only once fetched from
                keys = [d[0] for d in cursor.description]
                while rows:
                    yield Block(keys, rows=rows)
                    rows = cursor.fetchmany(chunk_size)
            finally:
                cursor.close()
    except conn.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(str(compiled), values, exc, conn.dialect.loaded_dbapi.Error,
                                  dialect=conn.dialect) from exc
