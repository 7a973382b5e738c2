"""A MySQL/MariaDB result set read straight off PyMySQL's socket, a chunk of rows at a time,
column by column.

PyMySQL parses every field of every row in Python (a packet object per row, a call per field):
about 9 CPU-seconds for 1,000,000 rows of 13 columns on the machines here, most of a sync's
extract. Here PyMySQL still connects, authenticates, escapes the bound values, sends the query
and reads the result's column definitions; this module then reads the row packets in bulk
(megabytes per socket read, one Python step per row to find where each packet ends), splits
their fields with numpy for all rows of a chunk at once, and gathers each column into one
array: text as a pyarrow string array (no Python object per value), integers as numbers, and
any other type through PyMySQL's own converter, value by value. The values are the ones PyMySQL
would have returned on the same connection (with ``Dialect.times_as_text``: dates and times as
text); tests/integration/test_mysql_stream.py compares the two.

Only the plain text protocol result of one statement is read here (what a SELECT returns); a
connection whose character set is not UTF-8 is left to PyMySQL (``supported``).
"""

from __future__ import annotations

import codecs
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pyarrow as pa

#: a packet of this payload length continues in the next one (a row of 16 MiB or more)
_MAX_PACKET = 0xFFFFFF
#: the server's status flag saying another result set follows
_MORE_RESULTS = 0x08
#: bytes asked of the socket per read (the kernel gives what it has, up to this)
_READ_SIZE = 1 << 20
_NULL, _LEN2, _LEN3, _LEN8 = 251, 252, 253, 254
#: rows read and split at a time
_BLOCK_ROWS = 50_000


def supported(dbapi_conn: Any) -> bool:
    """Whether this connection's results can be read here: PyMySQL speaking UTF-8."""
    try:
        import pymysql
    except ImportError:  # pragma: no cover - PyMySQL is a requirement
        return False
    if not isinstance(dbapi_conn, pymysql.connections.Connection):
        return False
    return codecs.lookup(dbapi_conn.encoding).name == "utf-8"


def is_open(dbapi_conn: Any) -> bool:
    """False once the reader (or PyMySQL) has closed the connection's socket."""
    return getattr(dbapi_conn, "_sock", None) is not None


@dataclass
class Chunk:
    """Up to ``chunk_rows`` rows: one array per column (pyarrow for text, numpy otherwise)."""

    names: list[str]
    columns: list[Any]

    def __len__(self) -> int:
        return len(self.columns[0]) if self.columns else 0


def execute(dbapi_conn: Any, statement: str, values: Any, chunk_rows: int) -> Iterator[Chunk]:
    """Run ``statement`` with ``values`` (PyMySQL's own binding) on a streaming cursor and yield
    its rows in chunks of at most ``chunk_rows``.

    Stopped early (the consumer failed, or the rows could not be read), the connection is
    closed: reading the rest of a large result only to discard it would take as long as reading
    it. An error the server sends instead of more rows (a timeout) ends the result cleanly.
    """
    import pymysql.cursors

    cursor = dbapi_conn.cursor(pymysql.cursors.SSCursor)
    cursor.execute(statement, values)  # the server's refusal (bad SQL) raises here, rows unread
    result = cursor._result  # noqa: SLF001 - the result PyMySQL has begun to read
    if not result.unbuffered_active:  # not a result set (no rows, no columns)
        cursor.close()
        return
    names = [d[0] for d in cursor.description]
    kinds = [_kind(encoding, converter) for encoding, converter in result.converters]
    reader = _PacketReader(dbapi_conn)
    try:
        # read and split in blocks of a bounded size (their scratch arrays are several times the
        # rows' size), handed on as chunks of up to chunk_rows whose text columns are chunked
        # Arrow arrays over those blocks: no copy
        held: list[list[Any]] = []
        count = 0
        for buf, starts in reader.chunks(min(chunk_rows, _BLOCK_ROWS)):
            held.append(_columns(buf, starts, kinds, result.converters))
            count += len(starts)
            if count >= chunk_rows:
                yield Chunk(names, _joined(held))
                held, count = [], 0
        if held:
            yield Chunk(names, _joined(held))
    finally:
        result.unbuffered_active = False
        result.connection = None
        if not reader.ended:  # the server is still sending: drop the connection, not drain it
            dbapi_conn._force_close()  # noqa: SLF001
    cursor.close()


def _joined(blocks: list[list[Any]]) -> list[Any]:
    """Blocks' columns as one column each: Arrow arrays chunked (no copy), numpy concatenated."""
    import pyarrow as pa

    if len(blocks) == 1:
        return blocks[0]
    return [pa.chunked_array(parts) if isinstance(parts[0], pa.Array) else np.concatenate(parts)
            for parts in zip(*blocks, strict=True)]


# --- packets ------------------------------------------------------------------------------------


class _PacketReader:
    """The row packets of a result set, from PyMySQL's buffered socket file."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.seq = conn._next_seq_id  # noqa: SLF001
        #: the server has sent the end of the result, or an error in its place
        self.ended = False

    def _read(self) -> bytes:
        from pymysql import err
        from pymysql.constants import CR

        try:
            data = self.conn._rfile.read1(_READ_SIZE)  # noqa: SLF001
        except OSError as exc:  # as PyMySQL's own reads report it
            self.conn._force_close()  # noqa: SLF001
            raise err.OperationalError(
                CR.CR_SERVER_LOST, f"Lost connection to MySQL server during query ({exc})") from None
        if not data:
            self.conn._force_close()  # noqa: SLF001
            raise err.OperationalError(CR.CR_SERVER_LOST, "Lost connection to MySQL server during query")
        return data

    def chunks(self, chunk_rows: int) -> Iterator[tuple[bytes, np.ndarray]]:
        """(buffer, payload start of each row) for about ``chunk_rows`` rows at a time; the
        buffer holds the rows' packets (headers and all) back to back."""
        pending = b""
        parts: list[bytes] = []
        starts: list[np.ndarray] = []
        held = 0
        offset = 0
        done = False
        while not done:
            buf = pending + self._read() if pending else self._read()
            end, found, done = self._scan(buf)
            pending = buf[end:]
            if found:
                parts.append(buf[:end] if end < len(buf) else buf)
                starts.append(np.asarray(found, dtype=np.int64) + offset)
                offset += end
                held += len(found)
            if held >= chunk_rows or (done and held):
                all_starts = np.concatenate(starts)
                body = b"".join(parts) if len(parts) > 1 else parts[0]
                whole = held if done else held - held % chunk_rows
                for k in range(0, whole, chunk_rows):  # one read may hold more than a chunk
                    yield body, all_starts[k:k + chunk_rows]
                if whole < held:  # the rest begins the next chunk
                    rest = int(all_starts[whole]) - 4
                    parts, starts = [body[rest:]], [all_starts[whole:] - rest]
                    held, offset = held - whole, len(body) - rest
                else:
                    parts, starts, held, offset = [], [], 0, 0
        if pending:
            raise self._protocol_error("bytes after the end of the result")

    def _scan(self, buf: bytes) -> tuple[int, list[int], bool]:
        """(end of the last whole packet, payload starts of its row packets, whether the result
        ended) of ``buf``; an error packet raises the server's error."""
        n = len(buf)
        p = 0
        found: list[int] = []
        add = found.append
        seq = self.seq
        while p + 4 <= n:
            length = buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16)
            if p + 4 + length > n:
                break
            if buf[p + 3] != seq:
                raise self._protocol_error(f"packet sequence number {buf[p + 3]}, expected {seq}")
            seq = (seq + 1) & 0xFF
            first = buf[p + 4] if length else -1
            if first == 0xFE and length < 9:  # EOF: the end of the rows
                status = buf[p + 7] | (buf[p + 8] << 8) if length >= 5 else 0
                self.seq = seq
                self.ended = True
                if status & _MORE_RESULTS:
                    raise self._protocol_error("more than one result set")
                return p + 4 + length, found, True
            if first == 0xFF:
                self.ended = True
                self._raise_server_error(buf[p + 4:p + 4 + length])
            if length == _MAX_PACKET:
                raise self._protocol_error("a row of 16 MiB or more (select fewer or shorter columns)")
            add(p + 4)
            p += 4 + length
        self.seq = seq
        return p, found, False

    def _raise_server_error(self, payload: bytes) -> None:
        from pymysql.protocol import MysqlPacket

        # the statement ends here (a timeout, a killed query): what PyMySQL raises for it
        MysqlPacket(payload, self.conn.encoding).raise_for_error()

    def _protocol_error(self, what: str) -> Exception:
        from pymysql import err

        self.conn._force_close()  # noqa: SLF001
        return err.InternalError(f"unexpected MySQL protocol data while reading a result: {what}")


# --- fields -------------------------------------------------------------------------------------

_TEXT, _INT, _BYTES, _OTHER = "text", "int", "bytes", "other"


def _kind(encoding: str | None, converter: Any) -> str:
    if converter is None:
        return _TEXT if encoding is not None else _BYTES
    if converter is int and encoding is not None:
        return _INT
    return _OTHER


def _split(body: np.ndarray, starts: np.ndarray, count: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(value start, value length, null) of each of ``count`` length-coded fields per row, for
    all rows at once: field k of every row is read before field k + 1 of any."""
    pos = starts
    fields = []
    for _ in range(count):
        lead = body[pos]
        length = lead.astype(np.int64)
        null = lead == _NULL
        head = np.ones(len(pos), dtype=np.int64)
        length[null] = 0
        for marker, size in ((_LEN2, 2), (_LEN3, 3), (_LEN8, 8)):
            at = np.flatnonzero(lead == marker)
            if len(at):
                value = np.zeros(len(at), dtype=np.int64)
                for b in range(size):
                    value |= body[pos[at] + 1 + b].astype(np.int64) << (8 * b)
                length[at] = value
                head[at] = 1 + size
        if (lead == 0xFF).any():
            raise ValueError("a field length of 0xFF")
        start = pos + head
        fields.append((start, length, null))
        pos = start + length
    return fields


def _gather(body: np.ndarray, start: np.ndarray, length: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(bytes of every value back to back, offsets): the data and offsets of an Arrow array."""
    small = body.size < 2**31
    kind = np.int32 if small else np.int64
    length = length.astype(kind)
    offsets = np.zeros(len(length) + 1, dtype=kind)
    np.cumsum(length, out=offsets[1:])
    total = int(offsets[-1])
    if not total:
        return np.zeros(0, dtype=np.uint8), offsets
    index = np.repeat(start.astype(kind) - offsets[:-1], length) + np.arange(total, dtype=kind)
    return body[index], offsets


def _columns(buf: bytes, starts: np.ndarray, kinds: list[str], converters: list[Any]) -> list[Any]:
    import pyarrow as pa

    body = np.frombuffer(buf, dtype=np.uint8)
    ends = starts + _payload_lengths(body, starts)
    try:
        fields = _split(body, starts, len(kinds))
    except (IndexError, ValueError) as exc:
        raise _malformed(str(exc)) from None
    if not np.array_equal(fields[-1][0] + fields[-1][1], ends):
        raise _malformed("row packets whose fields do not add up to their length")
    out: list[Any] = []
    for kind, (encoding, converter), (start, length, null) in zip(kinds, converters, fields, strict=True):
        if kind in (_TEXT, _INT):
            text = _string_array(pa, body, start, length, null)
            out.append(text if kind == _TEXT else _integers(text, converter))
        else:
            out.append(_per_value(buf, start, length, null, encoding, converter))
    return out


def _payload_lengths(body: np.ndarray, starts: np.ndarray) -> np.ndarray:
    head = starts - 4
    return (body[head].astype(np.int64) | (body[head + 1].astype(np.int64) << 8)
            | (body[head + 2].astype(np.int64) << 16))


def _malformed(what: str) -> Exception:
    from pymysql import err

    return err.InternalError(f"unexpected MySQL protocol data while reading a result: {what}")


def _string_array(pa: Any, body: np.ndarray, start: np.ndarray, length: np.ndarray,
                  null: np.ndarray) -> pa.Array:
    data, offsets = _gather(body, start, length)
    kind = pa.string() if offsets.dtype == np.int32 else pa.large_string()
    validity = None if not null.any() else pa.py_buffer(np.packbits(~null, bitorder="little"))
    array = pa.Array.from_buffers(kind, len(length), [validity, pa.py_buffer(offsets), pa.py_buffer(data)],
                                  null_count=int(null.sum()))
    try:
        array.validate(full=True)  # UTF-8, as PyMySQL's decode would insist
    except pa.ArrowInvalid as exc:
        raise UnicodeDecodeError("utf-8", b"", 0, 1, f"a text column holds bytes that are not UTF-8 ({exc})") from None
    return array


def _integers(text: pa.Array, converter: Any) -> np.ndarray:
    """An integer column as PyMySQL gives it: int64 without nulls, else Python ints and None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        numbers = pc.cast(text, pa.int64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # beyond int64: an UNSIGNED BIGINT
        return np.array([None if v is None else converter(v) for v in text.to_pylist()], dtype=object)
    if numbers.null_count:
        return np.array(numbers.to_pylist(), dtype=object)
    return numbers.to_numpy()


def _per_value(buf: bytes, start: np.ndarray, length: np.ndarray, null: np.ndarray,
               encoding: str | None, converter: Any) -> np.ndarray:
    out = np.empty(len(start), dtype=object)
    view = memoryview(buf)
    for i, (s, n, missing) in enumerate(zip(start.tolist(), length.tolist(), null.tolist(), strict=True)):
        if missing:
            out[i] = None
            continue
        value: Any = bytes(view[s:s + n])
        if encoding is not None:
            value = value.decode(encoding)
        out[i] = value if converter is None else converter(value)
    return out
