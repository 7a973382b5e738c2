"""Appending a run's rows to the staging tables: the one place where how they get there differs.

MySQL/MariaDB take each chunk as a tab-separated file through ``LOAD DATA LOCAL INFILE`` (several
times faster than batched INSERTs); SQLite and PostgreSQL take batched ``executemany``, and so does
a MySQL/MariaDB server whose ``local_infile`` is off (MySQL 8's default), with a warning. Frames are
turned into text column by column (no per-row Python beyond one join per row), and the same text
feeds the ledger's row hash, so hash and staged value cannot disagree.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder.db import dialect_of, sql, sql_source
from licence_reminder.errors import PermanentError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Connection

log = logging.getLogger(__name__)

_BATCH = 5_000
#: Licence numbers per ledger look-up (SQLite allows at most 32766 bound values per statement).
_LOOKUP_BATCH = 10_000
#: LOAD DATA's escape sequences (ESCAPED BY '\\'); the backslash itself first.
_TSV_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0"})
_TSV_NULL = "\\N"
# Only names we generate ourselves reach the LOAD DATA statement (see _load_data).
_SAFE_PATH = re.compile(r"[A-Za-z0-9_./-]+")
#: a quoted value in a server warning (the column's name, quoted after "column", is kept)
_QUOTED = re.compile(r"(?<!column )'[^']*'")

#: staging table -> (INSERT for executemany, LOAD DATA statement) in include/sql.
_STATEMENTS = {
    "staging_licence": ("staging_insert", "staging_licence_load"),
    "staging_rejection": ("staging_rejection_insert", "staging_rejection_load"),
    "staging_key": ("staging_key_insert", "staging_key_load"),
}


def column_text(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text, null mask) of a column: strings as they are, dates ISO (datetimes with a space),
    numbers via ``str``; text is ``""`` where null. Used for both the row hash and the file."""
    import numpy as np
    import pandas as pd

    raw = values.to_numpy(dtype=object)
    null = np.asarray(pd.isna(raw), dtype=bool)
    if null.all():
        return np.full(len(raw), "", dtype=object), null
    if pd.api.types.infer_dtype(raw, skipna=True) == "string":
        text = raw.copy()
        text[null] = ""
        return text, null
    # dates, datetimes and numbers repeat a lot: format each distinct value once
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    table = np.array([_scalar_text(u) for u in uniques] + [""], dtype=object)
    return table[codes], null


def _scalar_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _tsv_field(text: np.ndarray, null: np.ndarray) -> np.ndarray:
    out = text.copy()
    present = ~null
    # one scan of the whole column decides whether any value needs escaping (rarely one does)
    if any(ch in "".join(out[present]) for ch in "\\\t\n\r\x00"):
        out[present] = [v.translate(_TSV_ESCAPES) for v in out[present]]
    out[null] = _TSV_NULL
    return out


#: (text, null mask) of some of a frame's columns, as :func:`column_text` made them.
Texts = dict[str, tuple["np.ndarray", "np.ndarray"]]


def tsv_bytes(frame: pd.DataFrame, texts: Texts | None = None) -> bytes:
    """The frame as LOAD DATA reads it: tab-separated, \\N for null, backslash escapes, UTF-8.
    ``texts`` are columns already made text (for the row hash), not made again."""
    texts = texts or {}
    fields = [_tsv_field(*(texts[c] if c in texts else column_text(frame[c]))) for c in frame.columns]
    return "".join(f"{line}\n" for line in map("\t".join, zip(*fields, strict=True))).encode("utf-8")


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
            log.warning("the ledger database %s has local_infile off: staging uses batched INSERTs, "
                        "several times slower than LOAD DATA LOCAL; set local_infile=1 on the server "
                        "(docs/deploy.md)", server)
    return allowed


def write(conn: Connection, table: str, frame: pd.DataFrame, constants: dict[str, Any],
          texts: Texts | None = None) -> None:
    """Append ``frame`` (columns in the order of the table's statements) plus ``constants``;
    ``texts`` as for :func:`tsv_bytes`."""
    if frame.empty:
        return
    insert, load = _STATEMENTS[table]
    if bulk_loads(conn):
        _load_data(conn, load, frame, constants, texts)
    else:
        rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
        for i in range(0, len(rows), _BATCH):
            conn.execute(sql(insert, conn), [{**constants, **r} for r in rows[i:i + _BATCH]])


def changed_numbers(conn: Connection, dept_code: str, hashes: pd.DataFrame) -> set[str]:
    """Licence numbers of ``hashes`` (licence_no, row_hash) whose row the ledger does not hold
    as it is: new, changed or vanished."""
    if hashes.empty:
        return set()
    if bulk_loads(conn):
        # the comparison runs on the server: only the changed numbers come back
        conn.execute(sql("chunk_hash_create", conn))
        try:
            _load_data(conn, "chunk_hash_load", hashes, {})
            return {no for (no,) in conn.execute(sql("chunk_hash_changed", conn), {"dept_code": dept_code})}
        finally:
            conn.execute(sql("chunk_hash_drop", conn))
    from sqlalchemy import bindparam

    known: dict[str, str] = {}
    stmt = sql("ledger_hashes", conn).bindparams(bindparam("licence_nos", expanding=True))
    numbers = hashes["licence_no"].tolist()
    for i in range(0, len(numbers), _LOOKUP_BATCH):
        rows = conn.execute(stmt, {"dept_code": dept_code, "licence_nos": numbers[i:i + _LOOKUP_BATCH]})
        known.update((no, h) for no, h in rows)
    return {no for no, h in zip(numbers, hashes["row_hash"], strict=True) if known.get(no) != h}


def _load_data(conn: Connection, statement: str, frame: pd.DataFrame, constants: dict[str, Any],
               texts: Texts | None = None) -> None:
    from sqlalchemy import text

    folder = Path(tempfile.mkdtemp(prefix="lr_staging_"))
    try:
        path = folder / "rows.tsv"
        path.write_bytes(tsv_bytes(frame, texts))
        # MariaDB takes the file name only as a literal, never as a bound value. The name is one
        # we just created (mkdtemp + a fixed name), checked against a strict pattern, so it
        # cannot carry a quote or anything else of the data.
        if not _SAFE_PATH.fullmatch(str(path)):
            raise PermanentError(f"temporary directory {folder} has characters unsafe in SQL")
        conn.execute(text(sql_source(statement, conn).replace("{path}", str(path))), constants)
        # With LOCAL the server turns bad values into warnings instead of errors (it cannot stop
        # the client's upload): treat any as the error executemany would have raised.
        warnings = conn.execute(sql("load_warnings", conn)).fetchall()
        if warnings:  # a message may quote the value: keep only the column and line it names
            raise PermanentError("staging in the ledger database rejected values: " + "; ".join(
                _QUOTED.sub("'…'", str(w[2])) for w in warnings))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
