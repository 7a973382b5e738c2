"""Rows as text, and how they reach the ledger database: the one place where that differs
between servers. Used by the compare stage (row hashes, a chunk's hashes on the server) and the
load stage (the run's files).

MySQL/MariaDB take each chunk as a tab-separated file through ``LOAD DATA LOCAL INFILE`` (several
times faster than batched INSERTs); SQLite takes batched ``executemany``, and so does a MySQL/
MariaDB server whose ``local_infile`` is off (MySQL 8's default), with a warning. :func:`prepare`
makes a chunk's :class:`Staged` (a file in the run's folder), :func:`load` puts it in.

Columns are made text column-wise with pyarrow — no Python per value, but one md5 per row for the
row hash — and the same text feeds the row hash and the file, so hash and stored value cannot
disagree.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder.arrow_text import string_array
from licence_reminder.db import dialect_of, sql, sql_source
from licence_reminder.errors import PermanentError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

_BATCH = 5_000
#: LOAD DATA's escape sequences (ESCAPED BY '\\'), the backslash first.
_TSV_ESCAPES = (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r"), ("\x00", "\\0"))
_TSV_SPECIAL_BYTES = tuple(special.encode() for special, _escaped in _TSV_ESCAPES)
_TSV_NULL = "\\N"
# Only names we generate ourselves reach the LOAD DATA statement (see load).
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")
#: a quoted value in a server warning (the column's name, quoted after "column", is kept)
_QUOTED = re.compile(r"(?<!column )'[^']*'")
#: the separator of a row's hashed texts (what the ledger's row_hash is the md5 of)
HASH_SEPARATOR = "\x1f"

#: table -> (INSERT for executemany, LOAD DATA statement) in include/sql.
_STATEMENTS = {
    "ledger": ("ledger_insert_rows", "ledger_load"),
    "staging_licence": ("staging_insert", "staging_licence_load"),
    "staging_rejection": ("staging_rejection_insert", "staging_rejection_load"),
    "staging_key": ("staging_key_insert", "staging_key_load"),
    "staging_warning": ("staging_warning_insert", "staging_warning_load"),
    "staging_renewal": ("staging_renewal_insert", "staging_renewal_load"),
    "chunk_hash": ("", "chunk_hash_load"),  # compare_on_server only: a server-side temporary table
}
#: table -> the column its file's rows are written in the order of. A source gives its rows in
#: its own order, which scatters the ledger's two indexes that lead with the expiry date
#: (ix_ledger_expiry, and ix_ledger_dept_figures behind the department and status) over the
#: whole tree; in expiry order each file's entries go in runs. 1,000,000 new licences, 512 MiB
#: redo log: the server's LOAD DATA 13.3-15.4 s in the source's order, 10.5-11.4 s in expiry
#: order (docs/benchmarks.md, sync, tenth round).
_FILE_ORDER = {"ledger": "expiry_date"}


# --- text -------------------------------------------------------------------------------------


def column_text(values: pd.Series) -> tuple[pa.Array, np.ndarray]:
    """(text, null mask) of a column: strings as they are, dates ISO (datetimes with a space),
    numbers via ``str``; text is ``""`` where null. Used for both the row hash and the file."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    text = string_array(values, dates=True)
    if (
        text is None
        and pd.api.types.is_datetime64_dtype(values.dtype)
        and not (values.dt.microsecond.fillna(0).any() or values.dt.nanosecond.fillna(0).any())
    ):
        text = (
            pa.array(values).cast(pa.timestamp("s")).cast(pa.string())
        )  # as isoformat(" ") writes them
    if text is not None:
        null = np.asarray(text.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        return (pc.fill_null(text, "") if text.null_count else text), null
    raw = values.to_numpy(dtype=object)
    null = np.asarray(pd.isna(raw), dtype=bool)
    # dates, datetimes and numbers repeat a lot: format each distinct value once
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    table = pa.array([_scalar_text(u) for u in uniques] + [""], type=pa.string())
    return table.take(pa.array(np.where(codes < 0, len(uniques), codes))), null


def _scalar_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


#: (text, null mask) of some of a frame's columns, as :func:`column_text` made them.
Texts = dict[str, tuple["pa.Array", "np.ndarray"]]


def row_digests(texts: list[pa.Array]) -> np.ndarray:
    """The md5 of each row's texts joined by :data:`HASH_SEPARATOR` (as :func:`row_hashes`), as
    16 bytes a row: compared without a Python string per row, made text only for rows written
    (:func:`hex_of`)."""
    import io

    import numpy as np

    out = io.BytesIO()
    starts, lengths = _write_rows(texts, HASH_SEPARATOR, out)
    data = out.getbuffer()
    md5 = hashlib.md5
    joined = b"".join(md5(data[a : a + n]).digest() for a, n in zip(starts, lengths, strict=True))
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(starts), 16)


def hex_of(digests: np.ndarray) -> np.ndarray:
    """Digests (n × 16 bytes) as 32-character hex strings (object array)."""
    import numpy as np

    if not len(digests):
        return np.zeros(0, dtype=object)
    text = np.ascontiguousarray(digests).tobytes().hex().encode()
    return np.frombuffer(text, dtype="S32").astype(str).astype(object)


def row_hashes(texts: list[pa.Array]) -> np.ndarray:
    """The md5 (hex) of each row's texts joined by :data:`HASH_SEPARATOR`, as the ledger keeps it."""
    import io

    import numpy as np

    out = io.BytesIO()
    starts, lengths = _write_rows(texts, HASH_SEPARATOR, out)
    data = out.getbuffer()
    md5 = hashlib.md5
    return np.array(
        [md5(data[a : a + n]).hexdigest() for a, n in zip(starts, lengths, strict=True)],
        dtype=object,
    )


def _holds(text: pa.Array, wanted: tuple[bytes, ...]) -> bool:
    """Whether any value holds one of ``wanted`` (memchr over the data buffer: a regular
    expression per value takes ten times as long)."""
    data = text.buffers()[2]
    if data is None:
        return False
    raw = data.to_pybytes()
    return any(raw.find(b) >= 0 for b in wanted)


def _write_rows(fields: list[pa.Array], separator: str, out: Any) -> tuple[list[int], list[int]]:
    """Write each row's fields joined by ``separator`` and a newline to ``out``; returns where
    each row's text starts and how long it is (without the newline)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv

    lengths = np.sum([pc.binary_length(f).to_numpy() for f in fields], axis=0) + len(fields) - 1
    starts = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1] + 1, out=starts[1:])
    # what Arrow's CSV writer refuses in a value it does not quote
    structural = (separator.encode(), b"\n", b"\r", b'"')
    if not any(_holds(f, structural) for f in fields):  # the usual case: several times faster
        options = csv.WriteOptions(include_header=False, delimiter=separator, quoting_style="none")
        csv.write_csv(pa.table({str(k): f for k, f in enumerate(fields)}), out, options)
    else:
        lines = pc.binary_join_element_wise(
            pc.binary_join_element_wise(*fields, separator), "", "\n"
        )
        _validity, offsets, data = lines.buffers()
        first, last = np.frombuffer(offsets, dtype=np.int32)[
            [lines.offset, lines.offset + len(lines)]
        ]
        out.write(memoryview(data)[first:last])
    return starts.tolist(), lengths.tolist()


def _tsv_fields(frame: pd.DataFrame, texts: Texts | None) -> list[pa.Array]:
    import pyarrow as pa
    import pyarrow.compute as pc

    texts = texts or {}
    fields = []
    for c in frame.columns:
        text, null = texts[c] if c in texts else column_text(frame[c])
        if _holds(text, _TSV_SPECIAL_BYTES):  # rarely any value does
            for special, escaped in _TSV_ESCAPES:
                text = pc.replace_substring(text, special, escaped)
        fields.append(pc.if_else(pa.array(null), _TSV_NULL, text) if null.any() else text)
    return fields


# --- loading ------------------------------------------------------------------------------------

#: server (URL without password) -> whether it accepts LOAD DATA LOCAL, asked once per process
_LOCAL_INFILE: dict[str, bool] = {}


def bulk_loads(conn: Connection) -> bool:
    """Whether rows go to this server by ``LOAD DATA LOCAL``: a MySQL/MariaDB server with
    ``local_infile`` on. With it off the server refuses the statement outright, so staging falls
    back to batched INSERTs (correct, several times slower) and says so once per process."""
    if not dialect_of(conn).load_data_local:
        return False
    server = conn.engine.url.render_as_string(hide_password=True)
    allowed = _LOCAL_INFILE.get(server)
    if allowed is None:
        from sqlalchemy import text

        setting = conn.execute(text("SELECT @@GLOBAL.local_infile")).scalar()
        allowed = _LOCAL_INFILE[server] = bool(int(setting))
        if not allowed:
            log.warning(
                "the ledger database %s has local_infile off: staging uses batched INSERTs, "
                "several times slower than LOAD DATA LOCAL; set local_infile=1 on the server "
                "(docs/deploy.md)",
                server,
            )
    return allowed


@dataclass
class Staged:
    """Rows made ready for one table: a tab-separated file for LOAD DATA, or the frame itself
    for executemany. Picklable: a sync worker hands it to the process that loads it."""

    table: str
    rows: int
    path: str | None = None
    frame: pd.DataFrame | None = None


def prepare(
    table: str, frame: pd.DataFrame, *, bulk: bool, folder: Path, texts: Texts | None = None
) -> Staged | None:
    """``frame`` (columns in the order of the table's statements) made ready to load into
    ``table``: a file in ``folder`` when ``bulk``; None when there is nothing to load."""
    if frame.empty:
        return None
    if table not in _STATEMENTS:
        raise ValueError(f"no statements for table {table!r}")
    if not bulk:
        return Staged(table, len(frame), frame=frame.reset_index(drop=True))
    fields = _tsv_fields(frame, texts)
    if table in _FILE_ORDER:
        import pyarrow.compute as pc

        # ISO dates: their text sorts as the dates do; stable, so ties keep the source's order
        order = pc.sort_indices(fields[frame.columns.get_loc(_FILE_ORDER[table])])
        fields = [f.take(order) for f in fields]
    handle, path = tempfile.mkstemp(prefix=f"{table}_", suffix=".tsv", dir=folder)
    with open(handle, "wb") as f:
        _write_rows(fields, "\t", f)
    return Staged(table, len(frame), path=path)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows as the drivers bind them: Python values, None where missing (sqlite3 binds
    neither pandas' Timestamp nor its NaN)."""
    import numpy as np
    import pandas as pd

    columns = {}
    for c in frame.columns:
        values = frame[c]
        if pd.api.types.is_datetime64_dtype(values.dtype):
            objects = np.array(values.dt.to_pydatetime(), dtype=object)
        else:
            objects = np.array(values.astype(object).to_numpy(), dtype=object)
        objects[pd.isna(values).to_numpy()] = None
        columns[c] = objects
    return [dict(zip(columns, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def load(conn: Connection, staged: Staged, constants: dict[str, Any]) -> None:
    """Put ``staged`` into its table, with ``constants`` (run, department, time) on every row."""
    insert, statement = _STATEMENTS[staged.table]
    if staged.path is None:
        assert staged.frame is not None
        rows = _records(staged.frame)
        for i in range(0, len(rows), _BATCH):
            conn.execute(sql(insert, conn), [{**constants, **r} for r in rows[i : i + _BATCH]])
        return
    from sqlalchemy import text

    path = staged.path
    # MariaDB takes the file name only as a literal, never as a bound value. The name is one
    # prepare() created (mkstemp in the run's own folder), checked against a strict pattern, so
    # it cannot carry a quote or anything else of the data.
    if not _SAFE_PATH.fullmatch(path):
        raise PermanentError(f"temporary file {path} has characters unsafe in SQL")
    try:
        conn.execute(text(sql_source(statement, conn).replace("{path}", path)), constants)
    finally:
        Path(path).unlink(missing_ok=True)
    # With LOCAL the server turns bad values (and duplicate keys) into warnings instead of errors
    # (it cannot stop the client's upload): treat any as the error executemany would have raised.
    warnings = conn.execute(sql("load_warnings", conn)).fetchall()
    if warnings:  # a message may quote the value: keep only the column and line it names
        raise PermanentError(
            f"loading {staged.table} in the ledger database rejected values: "
            + "; ".join(_QUOTED.sub("'…'", str(w[2])) for w in warnings)
        )


def write(
    conn: Connection,
    table: str,
    frame: pd.DataFrame,
    constants: dict[str, Any],
    texts: Texts | None = None,
) -> None:
    """Append ``frame`` plus ``constants`` to ``table`` now (:func:`prepare` then :func:`load`)."""
    folder = Path(tempfile.mkdtemp(prefix="lr_staging_"))
    try:
        staged = prepare(table, frame, bulk=bulk_loads(conn), folder=folder, texts=texts)
        if staged is not None:
            load(conn, staged, constants)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def give_back_memory() -> None:
    """Hand memory freed since to the operating system: pyarrow's allocator and glibc's keep it
    for reuse, and a sync's peaks (a chunk's scratch arrays) would otherwise stay counted against
    the process for the rest of the run, in every forked worker too."""
    import ctypes
    import ctypes.util

    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    global _LIBC
    if _LIBC is None:
        name = ctypes.util.find_library("c")
        _LIBC = ctypes.CDLL(name) if name else False
    if _LIBC and hasattr(_LIBC, "malloc_trim"):  # glibc; elsewhere the allocator keeps it
        _LIBC.malloc_trim(0)


_LIBC: Any = None
