"""What the ledger holds of a department, read once at the start of a run: the licence numbers
in quarantine or with open warnings, and — for a full run — every licence's row hash and source
hash (:class:`LedgerIndex`). The validate stage skips what the source gives exactly as the ledger
last took it (:meth:`LedgerState.skippable`); the compare stage sorts the rest.

Not a stage: the stages that need it import it; it imports none of them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder import protect
from licence_reminder.db import sql, sql_source
from licence_reminder.keys import number_keys
from licence_reminder.registry import Catalogue, Department
from licence_reminder.sync import readers, rows
from licence_reminder.sync.flow import SyncPlan

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    from sqlalchemy import Engine

#: the code that decides whether a row is valid and what it becomes: when any of it changes, the
#: next full run validates every row again (context_of)
_RULES_CODE = (
    "records.py",
    "validation/rules.py",
    "validation/suite.py",
    "validation/duplicates.py",
    "sync/extract.py",
    "sync/validate.py",
)


def context_of(dept: Department, catalogue: Catalogue) -> str:
    """The md5 of what decides a row's validity and form besides the row itself: the department's
    file, its catalogue, and the product's rules (their source). A full run skips rows only under
    the context its department's last committed full run validated every row under."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.md5()
    digest.update(dept.model_dump_json().encode())
    digest.update(
        json.dumps(catalogue.model_dump(mode="json"), sort_keys=True, ensure_ascii=False).encode()
    )
    for name in _RULES_CODE:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


class LedgerIndex:
    """A department's licences as the ledger holds them, read once by a full run (one streamed
    query): what each row of the extract is compared with, and what the source no longer returns. Per chunk, asking the server instead (a temporary
    table and a join) costs the ledger's server more than the whole comparison costs here.

    Licence numbers are looked up by a 64-bit hash (:func:`number_keys`), which cannot make a
    changed row look the same: the row hash compared next covers the licence number itself. A
    collision can only make a new licence look held, and that one is staged and inserted by the
    merge (ledger_insert_new). Nothing here is a Python object per licence.
    """

    def __init__(
        self,
        numbers: pa.Array,
        hashes: pa.Array,
        vanished: np.ndarray,
        source_hashes: pa.Array | None = None,
    ) -> None:
        import numpy as np
        import pyarrow as pa

        self.numbers = numbers
        self.vanished = vanished
        self._set(number_keys(numbers), *_digests(hashes))
        if source_hashes is None:
            source_hashes = pa.nulls(len(numbers), type=pa.string())
        self._sources, self._has_source = _digests(source_hashes)
        self._has_source = np.asarray(self._has_source, dtype=bool)

    @classmethod
    def read(cls, ledger: Engine, dept_code: str, key_id: str | None = None) -> LedgerIndex:
        """The department's rows, block by block: only what is kept (numbers, 64-bit keys, md5
        digests) outlives a block. With ``key_id`` (the key ring's current key), a row whose
        identity-number digest is under another key never compares the same: it is written again."""
        import numpy as np
        import pyarrow as pa

        numbers: list[pa.Array] = []
        keys, digests, comparable, vanished, sources, read_as = [], [], [], [], [], []
        query = sql_source("ledger_index", ledger)
        params = {
            "dept_code": readers.Code(dept_code),
            "check_keys": int(key_id is not None),
            "key_id": readers.Code(key_id or "none"),
        }
        for block in readers.read(
            ledger,
            query,
            params,
            100_000,
            what=f"department {dept_code}: reading the ledger",
            times_as_text=False,
        ):
            number, hashed = (_text_column(block, k) for k in (0, 1))
            numbers.append(number)
            keys.append(number_keys(number))
            d, ok = _digests(hashed)
            digests.append(d)
            comparable.append(ok & (np.asarray(block.objects(3), dtype=np.int64) == 0))
            vanished.append(np.asarray(block.objects(2), dtype=np.int64) != 0)
            d, ok = _digests(_text_column(block, 4))
            sources.append(d)
            read_as.append(ok)
        index = cls.__new__(cls)
        index.numbers = pa.concat_arrays(numbers) if numbers else pa.array([], type=pa.string())
        index.vanished = np.concatenate(vanished) if vanished else np.zeros(0, dtype=bool)
        index._set(
            np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64),
            np.concatenate(digests) if digests else np.zeros((0, 16), dtype=np.uint8),
            np.concatenate(comparable) if comparable else np.zeros(0, dtype=bool),
        )
        index._sources = np.concatenate(sources) if sources else np.zeros((0, 16), dtype=np.uint8)
        index._has_source = np.concatenate(read_as) if read_as else np.zeros(0, dtype=bool)
        rows.give_back_memory()
        return index

    def _set(self, keys: np.ndarray, digests: np.ndarray, comparable: np.ndarray) -> None:
        import numpy as np

        self._order = np.argsort(keys, kind="stable")
        self._keys = keys[self._order]
        self._digests, self._comparable = digests, comparable

    def __len__(self) -> int:
        return len(self.numbers)

    def _find(self, numbers: pa.Array) -> tuple[np.ndarray, np.ndarray]:
        """(held, row) of each licence number: whether a row of the ledger has its key, which."""
        import numpy as np

        keys = number_keys(numbers)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return self._keys[at] == keys, self._order[at]

    def compare(
        self, numbers: pa.Array, hashes: np.ndarray, source_digests: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """(held, same) of licence numbers and their rows' md5 (hex), as :func:`compare` gives them;
        with ``source_digests`` (16 bytes a row), a row the source now gives otherwise is not the
        same either (its source hash is written again, though its values are)."""
        import numpy as np
        import pyarrow as pa

        if not len(numbers) or not len(self._keys):
            return np.zeros(len(numbers), dtype=bool), np.zeros(len(numbers), dtype=bool)
        held, row = self._find(numbers)
        digests, comparable = _digests(pa.array(hashes, type=pa.string()))
        same = (
            held
            & comparable
            & self._comparable[row]
            & ~self.vanished[row]
            & (self._digests[row] == digests).all(axis=1)
        )
        if source_digests is not None:
            same &= self._has_source[row] & (self._sources[row] == source_digests).all(axis=1)
        return held, same

    def read_as_before(self, numbers: pa.Array, source_digests: np.ndarray) -> np.ndarray:
        """Whether each row (its licence number as validated, its source digest: 16 bytes) is the
        one the ledger holds from the source exactly as it is read now, active, written cleanly."""
        import numpy as np

        if not len(numbers) or not len(self._keys):
            return np.zeros(len(numbers), dtype=bool)
        held, row = self._find(numbers)
        return (
            held
            & self._has_source[row]
            & self._comparable[row]
            & ~self.vanished[row]
            & (self._sources[row] == source_digests).all(axis=1)
        )

    def gone(self, seen: pa.Array) -> list[str]:
        """The licences the ledger holds active (not vanished) that are not in ``seen``: by key
        (a licence whose key the extract lacks is gone), each key match then confirmed on the
        number, column-wise."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        active = np.flatnonzero(~self.vanished)
        if not len(active):
            return []
        keys = number_keys(seen)
        order = np.argsort(keys, kind="stable")
        keys = keys[order]
        mine = number_keys(self.numbers.take(pa.array(active)))
        at = np.minimum(np.searchsorted(keys, mine), max(len(keys) - 1, 0))
        matched = (keys[at] == mine) if len(keys) else np.zeros(len(active), dtype=bool)
        same = np.zeros(len(active), dtype=bool)
        if matched.any():
            rows, there = active[matched], order[at[matched]]
            same[matched] = np.asarray(
                pc.equal(self.numbers.take(pa.array(rows)), seen.take(pa.array(there))), dtype=bool
            )
            # a key two numbers share (or the extract holds twice): the first one found may be
            # the other number; ask the strings themselves
            unsure = np.flatnonzero(matched & ~same)
            if len(unsure):
                doubt = set(self.numbers.take(pa.array(active[unsure])).to_pylist())
                present = set(
                    seen.filter(pc.is_in(seen, value_set=pa.array(sorted(doubt)))).to_pylist()
                )
                same[unsure] = [
                    n in present for n in self.numbers.take(pa.array(active[unsure])).to_pylist()
                ]
        return self.numbers.take(pa.array(active[~same])).to_pylist()

    @property
    def active(self) -> int:
        return int((~self.vanished).sum())


#: hex digit (either case) -> its value, 255 for any other byte; made on first use
_HEX: np.ndarray | None = None


def _digests(hashes: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(16 bytes of each md5 hex hash, whether the value is one): a row whose status was merged
    from a rejected row carries a text, not an md5, and never compares the same."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    global _HEX
    if _HEX is None:
        _HEX = np.full(256, 255, dtype=np.uint8)
        for value, chars in enumerate(zip("0123456789abcdef", "0123456789ABCDEF", strict=True)):
            _HEX[[ord(c) for c in chars]] = value
    n = len(hashes)
    if isinstance(hashes, pa.ChunkedArray):
        hashes = hashes.combine_chunks()
    fits = np.asarray(
        pc.fill_null(pc.binary_length(hashes), 0).to_numpy(zero_copy_only=False) == 32
    )
    digests = np.zeros((n, 16), dtype=np.uint8)
    rows = np.flatnonzero(fits)
    if not len(rows):
        return digests, fits
    _validity, offsets, data = hashes.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[hashes.offset : hashes.offset + n][rows]
    body = np.frombuffer(data, dtype=np.uint8)
    if len(rows) == n and starts[-1] - starts[0] == 32 * (n - 1):  # the usual: back to back
        text = body[starts[0] : starts[0] + 32 * n].reshape(n, 32)
        _nibbles_to(digests, fits, rows, text)
    else:
        for k in range(
            0, len(rows), 65_536
        ):  # a bounded index array, not 32 entries per row at once
            part = slice(k, k + 65_536)
            _nibbles_to(digests, fits, rows[part], body[starts[part, None] + np.arange(32)])
    return digests, fits


def _nibbles_to(digests: np.ndarray, fits: np.ndarray, rows: np.ndarray, text: np.ndarray) -> None:
    assert _HEX is not None
    nibbles = _HEX[text]
    fits[rows] = (nibbles != 255).all(axis=1)
    digests[rows] = (nibbles[:, 0::2] << 4) | (nibbles[:, 1::2] & 15)


def _text_column(block: readers.Block, k: int) -> pa.Array:
    import pyarrow as pa

    if block.batch is not None:
        column = block.batch.column(k)
        return column if column.type == pa.string() else column.cast(pa.string())
    return pa.array(block.objects(k), type=pa.string())


class LedgerState:
    """What the ledger holds of the department that validation and comparison need."""

    def __init__(
        self,
        *,
        in_quarantine: set[str],
        quarantined_source_keys: set[str],
        first_load: bool,
        index: LedgerIndex | None,
        warned: set[str] | None = None,
        context: str | None = None,
        validated_context: str | None = None,
    ) -> None:
        self.in_quarantine = in_quarantine
        self.quarantined_source_keys = quarantined_source_keys
        #: a first load compares nothing: every valid row is new
        self.first_load = first_load
        #: a full run's: the department's rows, compared with in memory
        self.index = index
        #: licence numbers with an open warning: validated again every run
        self.warned = warned or set()
        #: the rules, catalogue and file this run validates under (context_of), and those the
        #: department's last committed full run validated every row under
        self.context, self.validated_context = context, validated_context
        self._ring: protect.KeyRing | None = None

    @classmethod
    def read(
        cls, ledger: Engine, dept: Department, catalogue: Catalogue, plan: SyncPlan
    ) -> LedgerState:
        with ledger.connect() as conn:
            p = {"dept_code": dept.code}
            in_quarantine = {r[0] for r in conn.execute(sql("quarantine_open_keys", conn), p)}
            source_keys = {r[0] for r in conn.execute(sql("quarantine_open_source_keys", conn), p)}
            first_load = conn.execute(sql("ledger_holds_department", conn), p).first() is None
            warned = {r[0] for r in conn.execute(sql("warning_open_licences", conn), p)}
            validated = conn.execute(sql("department_validated_context", conn), p).scalar()
        index = (
            LedgerIndex.read(ledger, dept.code, protect.current_key_id())
            if plan.mode == "full" and not first_load
            else None
        )
        return cls(
            in_quarantine=in_quarantine,
            quarantined_source_keys=source_keys,
            first_load=first_load,
            index=index,
            warned=warned,
            context=context_of(dept, catalogue),
            validated_context=validated,
        )

    @property
    def skips(self) -> bool:
        """Whether this run may skip rows read as before: a full run, under the context the last
        full run validated every row under."""
        return (
            self.index is not None
            and self.context is not None
            and self.context == self.validated_context
        )

    def skippable(
        self, numbers: pa.Array, source_digests: np.ndarray, duplicated: Any
    ) -> np.ndarray:
        """Rows (their licence numbers as validated, their source digests) that need no validation:
        the ledger holds the licence from the source exactly as read now, written cleanly (no
        warning open, not in quarantine, not gone, its digests under the current key), and the
        source holds the number once (``duplicated``: the numbers it holds more than once)."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        if not self.skips or not len(numbers):
            return np.zeros(len(numbers), dtype=bool)
        assert self.index is not None
        out = self.index.read_as_before(pc.fill_null(numbers, ""), source_digests)
        out &= np.asarray(numbers.is_valid().to_numpy(zero_copy_only=False), dtype=bool)
        apart = self.in_quarantine | self.warned | set(duplicated)
        if apart and out.any():
            out &= ~np.asarray(
                pc.is_in(numbers, value_set=pa.array(sorted(apart), type=pa.string())).fill_null(
                    False
                ),
                dtype=bool,
            )
        return out

    def key_ring(self) -> protect.KeyRing:
        """The key ring, read when a batch first holds an identity number."""
        if self._ring is None:
            self._ring = protect.key_ring()
        return self._ring
