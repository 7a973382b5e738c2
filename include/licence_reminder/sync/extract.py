"""Stage 1 of a sync — read: a department's extract SQL, streamed in chunks onto the canonical
record; what the other stages need of the source besides (the rows of duplicated licence
numbers, renewal applications kept apart, the source's clock).

The product wraps the department's SQL as a derived table and filters on the watermark, so the SQL
stays the DBA's; every engine here pushes the outer conditions down, so an index on the watermark
column is still used.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from licence_reminder.db import Dialect, dialect_of
from licence_reminder.errors import PermanentError, TransientError
from licence_reminder.records import CANONICAL_COLUMNS, REQUIRED_COLUMNS, SOURCE_KEY
from licence_reminder.registry import Department, select_problem
from licence_reminder.sync import readers
from licence_reminder.sync.flow import Extracted, Identities, StageStats, SyncPlan

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy import Engine

log = logging.getLogger(__name__)


def extract_query(
    dept: Department, dialect: Dialect, *, incremental: bool, columns: tuple[str, ...] | None = None
) -> str:
    """The department's SQL wrapped as a derived table, filtered on the watermark (bound as
    ``:watermark``) when incremental."""
    inner = dept.extract_sql_text().strip().rstrip(";").strip()
    if problem := select_problem(inner):
        field = "source.extract_sql_file" if dept.source.extract_sql_file else "source.extract_sql"
        raise PermanentError(f"department {dept.code}: field {field!r} {problem}")
    selected = ", ".join(f"src.{dialect.quote(c)}" for c in columns) if columns else "src.*"
    query = f"SELECT {selected} FROM (\n{inner}\n) src"
    if incremental:
        column = dept.source.columns.get(
            dept.source.sync.watermark_column, dept.source.sync.watermark_column
        )
        col = f"src.{dialect.quote(column)}"
        if dialect.name == "sqlite":  # text timestamps: compare normalised, not as strings
            query += f"\nWHERE datetime({col}) > datetime(:watermark)"
        else:
            query += f"\nWHERE {col} > :watermark"
    return query


def to_canonical(frame: pd.DataFrame, dept: Department) -> pd.DataFrame:
    """Rename mapped columns, add constants and absent optional columns; keep canonical order."""
    returned = list(frame.columns)
    mapping = dept.source.columns
    unknown = {canon: src for canon, src in mapping.items() if src not in returned}
    if unknown:
        raise PermanentError(
            f"department {dept.code}: field 'source.columns': {unknown} name column(s) the extract "
            f"does not return (it returned {returned})"
        )
    both = sorted(canon for canon, src in mapping.items() if canon in returned and canon != src)
    if both:
        raise PermanentError(
            f"department {dept.code}: field 'source.columns': the extract already returns {both}; "
            f"alias the column in the SQL or map it here, not both"
        )
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
            f"drop the constant or the column"
        )
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


def _what(dept: Department) -> str:
    return f"department {dept.code}: extract from source connection {dept.source.conn_id!r}"


def _blocks(
    engine: Engine, dept: Department, query: str, params: dict[str, Any], batch_rows: int, **kw: Any
) -> Iterator[readers.Block]:
    """The reader's blocks, its errors said for the DBA."""
    timeout = dept.source.sync.timeout_seconds
    try:
        yield from readers.read(
            engine, query, params, batch_rows, what=_what(dept), timeout_seconds=timeout, **kw
        )
    except (PermanentError, TransientError) as exc:
        text = str(exc)
        if "syntax" in text.lower() and re.search(r"""near ["']\)""", text):
            raise PermanentError(
                f"{text} (the ')' is the product's: your SQL runs inside a subquery, "
                "so its end is incomplete — a trailing WHERE or AND, or a ';'?)"
            ) from exc
        raise _with_timeout_hint(exc, timeout) from exc


def _with_timeout_hint(exc: PermanentError | TransientError, timeout: int) -> Exception:
    text = str(exc)
    if any(
        s in text for s in ("max_statement_time", "max_execution_time", "statement timeout", "1969")
    ):
        return type(exc)(
            f"{text} (source.sync.timeout_seconds is {timeout}: a query that needs longer "
            "will time out again; speed it up with an index, or raise the setting)"
        )
    return exc


def stream_chunks(
    engine: Engine, dept: Department, *, watermark: dt.datetime | None, limit: int | None = None
) -> Iterator[pd.DataFrame]:
    """Canonical DataFrames of at most ``chunk_size`` rows; with a ``split_column``, its value
    beside each row (``source_key``), to find a rejected row by."""
    import pandas as pd

    sync = dept.source.sync
    query = extract_query(dept, dialect_of(engine), incremental=watermark is not None)
    if limit is not None:
        query += f"\nLIMIT {int(limit)}"
    chunk_size = min(sync.chunk_size, limit) if limit else sync.chunk_size
    params = {} if watermark is None else {"watermark": watermark}
    for block in _blocks(engine, dept, query, params, chunk_size):
        frame = to_canonical(block.frame(), dept)
        if sync.split_column:
            if sync.split_column not in block.names:
                raise PermanentError(
                    f"department {dept.code}: field 'source.sync.split_column': the extract returns "
                    f"no column {sync.split_column!r} (it returned {block.names}); alias your table's "
                    f"key in the SQL, e.g. x.id AS {sync.split_column}"
                )
            # taken as read: a frame's BIGINT with a NULL would be float
            frame[SOURCE_KEY] = pd.Series(
                block.objects(block.names.index(sync.split_column)), index=frame.index, dtype=object
            )
        yield frame


def identities(engine: Engine, dept: Department) -> Identities:
    """Every row of the department's whole extract as the runs tell rows apart: its licence number
    (as the validator reads it: trimmed; None where missing), its change time (as text) and its
    key (``split_column``), when the extract returns them — three columns, read in blocks."""
    import pyarrow as pa

    from licence_reminder.validation.suite import normalised_text

    dialect = dialect_of(engine)
    wanted = {
        "licence_no": dept.source.columns.get("licence_no", "licence_no"),
        "stamp": dept.source.columns.get("source_updated_at", "source_updated_at"),
        "key": dept.source.sync.split_column,
    }
    inner = extract_query(dept, dialect, incremental=False)
    with engine.connect() as conn:
        returned = readers.column_names(conn, inner, {})
    present = {role: column for role, column in wanted.items() if column and column in returned}
    query = (
        f"SELECT {', '.join('v.' + dialect.quote(c) for c in present.values())} FROM ({inner}) v"
    )
    parts: dict[str, list[pa.Array]] = {role: [] for role in present}
    for block in _blocks(engine, dept, query, {}, 200_000):
        frame = block.frame()
        for k, role in enumerate(present):
            if role == "licence_no":
                parts[role].append(pa.array(normalised_text(frame.iloc[:, k]), type=pa.string()))
            elif (
                block.batch is not None
            ):  # as read: only the few rows of duplicated numbers are used
                parts[role].append(block.batch.column(k))
            else:
                parts[role].append(
                    pa.array(
                        [None if v is None else str(v) for v in block.objects(k)], type=pa.string()
                    )
                )

    def joined(role: str) -> pa.Array | pa.ChunkedArray | None:
        if role not in parts:
            return None
        if role == "licence_no":
            return pa.concat_arrays(parts[role]) if parts[role] else pa.array([], type=pa.string())
        try:
            return pa.chunked_array(parts[role], type=None if parts[role] else pa.string())
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # blocks typed apart (a column NULL in one)
            return pa.chunked_array([p.cast(pa.string()) for p in parts[role]], type=pa.string())

    return Identities(numbers=joined("licence_no"), stamps=joined("stamp"), keys=joined("key"))


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
    renewals = dept.source.renewals
    field = "source.renewals.sql_file" if renewals and renewals.sql_file else "source.renewals.sql"
    if problem := select_problem(inner):
        raise PermanentError(f"department {dept.code}: field {field!r} {problem}")
    dialect = dialect_of(engine)
    query = f"SELECT r.{dialect.quote('licence_no')}, r.{dialect.quote('applied_on')} FROM (\n{inner}\n) r"
    latest: dict[str, Any] = {}
    unreadable = 0
    try:
        for block in _blocks(engine, dept, query, {}, 50_000):
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
                if number not in latest or (
                    day is not None and (latest[number] is None or day > latest[number])
                ):
                    latest[number] = day
    except PermanentError as exc:
        raise PermanentError(
            f"{exc} (in {field}: it must return the columns licence_no and applied_on)"
        ) from exc
    frame = pd.DataFrame(
        {"licence_no": list(latest), "applied_on": list(latest.values())}, dtype=object
    )
    return Applications(frame, unreadable)


def source_clock(engine: Engine, dept: Department) -> dt.datetime:
    """The source server's time now, in the frame its naive timestamps are read in (Asia/Shanghai):
    a server's zone-aware time is converted; a naive one is taken as it is, like the rows' stamps."""
    from licence_reminder.validation.rules import parse_datetime

    dialect = dialect_of(engine)
    (value,) = readers.query_one(
        engine,
        dialect.clock_sql,
        {},
        what=_what(dept),
        timeout_seconds=dept.source.sync.timeout_seconds,
    )
    if dialect.name == "sqlite":  # CURRENT_TIMESTAMP is UTC text there
        value = dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)
    return parse_datetime(value)


def open_extract(
    source: Engine, dept: Department, plan: SyncPlan, *, stats: StageStats
) -> Extracted:
    """The run's view of its source: the chunks to sync (read as they are consumed), every row's
    licence number, change time and key (read when first asked for), the renewal applications
    (read now), and the source's clock before the first row."""
    import functools

    read_at = source_clock(source, dept)  # before the first row: what the next run counts back from
    stats.source_read_at = read_at.isoformat(sep=" ")
    applications = None
    if dept.source.renewals is not None:
        found = renewal_applications(source, dept)
        if found.unreadable_dates:
            log.warning(
                "department %s: %d renewal application(s) give an applied_on that is not a date; "
                "taken as applied on the day first seen (source.renewals)",
                dept.code,
                found.unreadable_dates,
            )
        applications = found.frame
    read_identities = functools.partial(identities, source, dept)
    return Extracted(
        read_at=read_at,
        chunks=stream_chunks(source, dept, watermark=plan.read_after),
        # a full run asks for them with its first chunk, before anything can be loaded: read
        # beside that chunk (the readers wait outside the GIL); an incremental run asks only
        # if it reads a row
        identities=_Prefetched(read_identities)
        if plan.mode == "full"
        else functools.cache(read_identities),
        applications=applications,
    )


class _Prefetched:
    """``read()`` started now on a thread of its own; calling the object waits for its result
    (or raises its error), as often as asked."""

    def __init__(self, read: Callable[[], Identities]) -> None:
        import threading

        self._result: Identities | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(read,), name="source-identities", daemon=True
        )
        self._thread.start()

    def _run(self, read: Callable[[], Identities]) -> None:
        try:
            self._result = read()
        except BaseException as exc:  # noqa: BLE001 - raised where the result is asked for
            self._error = exc

    def __call__(self) -> Identities:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result
