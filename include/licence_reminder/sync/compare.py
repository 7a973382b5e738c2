"""Stage 3 of a sync — compare with the ledger: which valid rows are licences the ledger never
held (loaded straight into it), which it holds otherwise (staged for the merge), which it holds as
they are (not written at all); which licences a full run no longer read (gone from the source);
what rejected rows tell all the same (a revocation, a quarantined row now valid).

A full run reads the department's ledger rows once (:class:`LedgerIndex`: 64-bit keys of the
licence numbers and the rows' md5 digests, no Python object per licence); a run reading only
changed rows asks the server about each batch instead (:func:`compare_on_server`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from licence_reminder import protect
from licence_reminder.db import sql, sql_source
from licence_reminder.errors import PermanentError
from licence_reminder.keys import number_keys
from licence_reminder.leads import LeadTable
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY_LENGTH
from licence_reminder.registry import Catalogue, Department
from licence_reminder.sync import readers, rows
from licence_reminder.sync.flow import Extracted, Sorted, StageStats, SyncPlan, Validated
from licence_reminder.validation.rules import DUPLICATE_REJECTIONS, TEXT_LIMITS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

#: business fields whose change is a change of the ledger row
HASHED_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c != "source_updated_at")
#: licence numbers per ledger look-up (SQLite allows at most 32766 bound values per statement)
_LOOKUP_BATCH = 10_000
#: below this many, vanished licences are never too many (a small register's weekly deletions)
VANISHED_ALWAYS_ALLOWED = 10
#: the ledger's width of licence_no
LICENCE_NO_LENGTH = TEXT_LIMITS["licence_no"]


def compare(batches: Iterator[Validated], extracted: Extracted, ledger: Engine, dept: Department,
            catalogue: Catalogue, plan: SyncPlan, *, stats: StageStats) -> Iterator[Sorted]:
    """Each validated batch sorted for the ledger; after the last, in a full run, the licences the
    source no longer returns."""
    state = _LedgerState.read(ledger, dept, plan)
    leads = LeadTable(catalogue)
    for batch in batches:
        yield _sort(batch, state, leads, ledger, dept, stats)
    if state.index is not None:
        yield _vanished(state.index, extracted.identities().numbers, plan, dept, stats)


def compare_on_server(conn: Connection, dept_code: str, numbers: np.ndarray,
                      hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(held, same) per licence number: whether the ledger holds it at all (also as vanished),
    and whether it holds it as it is (same row hash, not vanished)."""
    import numpy as np
    import pandas as pd

    if not len(numbers):
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    if rows.bulk_loads(conn):
        # the comparison runs on the server: only the numbers that differ come back
        conn.execute(sql("chunk_hash_create", conn))
        try:
            rows.write(conn, "chunk_hash", pd.DataFrame({"licence_no": numbers, "row_hash": hashes}, dtype=object), {})
            differ = conn.execute(sql("chunk_hash_changed", conn), {"dept_code": dept_code}).all()
        finally:
            conn.execute(sql("chunk_hash_drop", conn))
        new = {no for no, held in differ if not held}
        listed = pd.Series(numbers, dtype=object)
        return ~listed.isin(new).to_numpy(), ~listed.isin({no for no, _held in differ}).to_numpy()
    from sqlalchemy import bindparam

    known: dict[str, tuple[str, bool]] = {}
    stmt = sql("ledger_hashes", conn).bindparams(bindparam("licence_nos", expanding=True))
    as_list = list(numbers)
    for i in range(0, len(as_list), _LOOKUP_BATCH):
        found = conn.execute(stmt, {"dept_code": dept_code, "licence_nos": as_list[i:i + _LOOKUP_BATCH]})
        known.update((no, (h, bool(gone))) for no, h, gone in found)
    held = np.fromiter((no in known for no in as_list), dtype=bool, count=len(as_list))
    same = np.fromiter((known.get(no) == (h, False) for no, h in zip(as_list, hashes, strict=True)),
                       dtype=bool, count=len(as_list))
    return held, same


class LedgerIndex:
    """A department's licences as the ledger holds them, read once by a full run (one streamed
    query): what each row of the extract is compared with, and what the source no longer returns. Per chunk, asking the server instead (a temporary
    table and a join) costs the ledger's server more than the whole comparison costs here.

    Licence numbers are looked up by a 64-bit hash (:func:`number_keys`), which cannot make a
    changed row look the same: the row hash compared next covers the licence number itself. A
    collision can only make a new licence look held, and that one is staged and inserted by the
    merge (ledger_insert_new). Nothing here is a Python object per licence.
    """

    def __init__(self, numbers: pa.Array, hashes: pa.Array, vanished: np.ndarray) -> None:
        self.numbers = numbers
        self.vanished = vanished
        self._set(number_keys(numbers), *_digests(hashes))

    @classmethod
    def read(cls, ledger: Engine, dept_code: str, key_id: str | None = None) -> LedgerIndex:
        """The department's rows, block by block: only what is kept (numbers, 64-bit keys, md5
        digests) outlives a block. With ``key_id`` (the key ring's current key), a row whose
        identity-number digest is under another key never compares the same: it is written again."""
        import numpy as np
        import pyarrow as pa

        numbers: list[pa.Array] = []
        keys, digests, comparable, vanished = [], [], [], []
        query = sql_source("ledger_index", ledger)
        params = {"dept_code": readers.Code(dept_code), "check_keys": int(key_id is not None),
                  "key_id": readers.Code(key_id or "none")}
        for block in readers.read(ledger, query, params, 100_000,
                                  what=f"department {dept_code}: reading the ledger", times_as_text=False):
            number, hashed = (_text_column(block, k) for k in (0, 1))
            numbers.append(number)
            keys.append(number_keys(number))
            d, ok = _digests(hashed)
            digests.append(d)
            comparable.append(ok & (np.asarray(block.objects(3), dtype=np.int64) == 0))
            vanished.append(np.asarray(block.objects(2), dtype=np.int64) != 0)
        index = cls.__new__(cls)
        index.numbers = (pa.concat_arrays(numbers) if numbers else pa.array([], type=pa.string()))
        index.vanished = np.concatenate(vanished) if vanished else np.zeros(0, dtype=bool)
        index._set(np.concatenate(keys) if keys else np.zeros(0, dtype=np.uint64),
                   np.concatenate(digests) if digests else np.zeros((0, 16), dtype=np.uint8),
                   np.concatenate(comparable) if comparable else np.zeros(0, dtype=bool))
        rows.give_back_memory()
        return index

    def _set(self, keys: np.ndarray, digests: np.ndarray, comparable: np.ndarray) -> None:
        import numpy as np

        self._order = np.argsort(keys, kind="stable")
        self._keys = keys[self._order]
        self._digests, self._comparable = digests, comparable

    def __len__(self) -> int:
        return len(self.numbers)

    def compare(self, numbers: pa.Array, hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(held, same) of licence numbers and their rows' md5 (hex), as :func:`compare` gives them."""
        import numpy as np
        import pyarrow as pa

        if not len(numbers) or not len(self._keys):
            return np.zeros(len(numbers), dtype=bool), np.zeros(len(numbers), dtype=bool)
        keys = number_keys(numbers)
        at = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        held = self._keys[at] == keys
        row = self._order[at]
        digests, comparable = _digests(pa.array(hashes, type=pa.string()))
        same = (held & comparable & self._comparable[row] & ~self.vanished[row]
                & (self._digests[row] == digests).all(axis=1))
        return held, same

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
            same[matched] = np.asarray(pc.equal(self.numbers.take(pa.array(rows)),
                                                seen.take(pa.array(there))), dtype=bool)
            # a key two numbers share (or the extract holds twice): the first one found may be
            # the other number; ask the strings themselves
            unsure = np.flatnonzero(matched & ~same)
            if len(unsure):
                doubt = set(self.numbers.take(pa.array(active[unsure])).to_pylist())
                present = set(seen.filter(pc.is_in(seen, value_set=pa.array(sorted(doubt)))).to_pylist())
                same[unsure] = [n in present for n in self.numbers.take(pa.array(active[unsure])).to_pylist()]
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
    fits = np.asarray(pc.fill_null(pc.binary_length(hashes), 0).to_numpy(zero_copy_only=False) == 32)
    digests = np.zeros((n, 16), dtype=np.uint8)
    rows = np.flatnonzero(fits)
    if not len(rows):
        return digests, fits
    _validity, offsets, data = hashes.buffers()
    starts = np.frombuffer(offsets, dtype=np.int32)[hashes.offset:hashes.offset + n][rows]
    body = np.frombuffer(data, dtype=np.uint8)
    if len(rows) == n and starts[-1] - starts[0] == 32 * (n - 1):  # the usual: back to back
        text = body[starts[0]:starts[0] + 32 * n].reshape(n, 32)
        _nibbles_to(digests, fits, rows, text)
    else:
        for k in range(0, len(rows), 65_536):  # a bounded index array, not 32 entries per row at once
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




class _LedgerState:
    """What the ledger holds of the department that the comparison needs, read once per run."""

    def __init__(self, in_quarantine: set[str], quarantined_source_keys: set[str], first_load: bool,
                 index: LedgerIndex | None) -> None:
        self.in_quarantine = in_quarantine
        self.quarantined_source_keys = quarantined_source_keys
        #: a first load compares nothing: every valid row is new
        self.first_load = first_load
        #: a full run's: the department's rows, compared with in memory
        self.index = index
        self._ring: protect.KeyRing | None = None

    @classmethod
    def read(cls, ledger: Engine, dept: Department, plan: SyncPlan) -> _LedgerState:
        with ledger.connect() as conn:
            p = {"dept_code": dept.code}
            in_quarantine = {r[0] for r in conn.execute(sql("quarantine_open_keys", conn), p)}
            source_keys = {r[0] for r in conn.execute(sql("quarantine_open_source_keys", conn), p)}
            first_load = conn.execute(sql("ledger_holds_department", conn), p).first() is None
        index = (LedgerIndex.read(ledger, dept.code, protect.current_key_id())
                 if plan.mode == "full" else None)
        return cls(in_quarantine, source_keys, first_load, index)

    def key_ring(self) -> protect.KeyRing:
        """The key ring, read when a batch first holds an identity number."""
        if self._ring is None:
            self._ring = protect.key_ring()
        return self._ring


def _sort(batch: Validated, state: _LedgerState, leads: LeadTable, ledger: Engine,
          dept: Department, stats: StageStats) -> Sorted:
    """(new, changed) of the batch's valid rows, with their row hash and reminder dates: new are
    the licences the ledger has never held, loaded straight into it; changed are the ones it holds
    differently (or as vanished), and the rows leaving quarantine, staged for the merge. The rest
    are unchanged and not written at all."""
    import numpy as np

    valid = batch.valid
    numbers = valid["licence_no"].to_numpy(dtype=object)
    texts = {c: rows.column_text(valid[c]) for c in HASHED_COLUMNS}
    hashes = rows.row_hashes([t for t, _null in texts.values()])
    if state.first_load:
        held = same = np.zeros(len(numbers), dtype=bool)
    elif state.index is not None:
        held, same = state.index.compare(texts["licence_no"][0], hashes)
    else:
        with ledger.connect() as conn:
            held, same = compare_on_server(conn, dept.code, numbers, hashes)
    quarantined = (np.fromiter((n in state.in_quarantine for n in numbers), dtype=bool, count=len(numbers))
                   if state.in_quarantine else np.zeros(len(numbers), dtype=bool))
    new = ~held & ~quarantined  # a quarantined number is staged: quarantine_resolve_fixed finds it there
    changed = (held & ~same) | quarantined
    keys = _keys_learned(batch, state)
    stats.statuses_from_rejected += int((keys["kind"] != "fixed_key").sum()) if len(keys) else 0
    stats.staged += int(new.sum() + changed.sum())
    stats.unchanged += len(valid) - int(new.sum() + changed.sum())
    # the texts of identity numbers are in clear: the files take the protected columns instead
    new_texts, changed_texts = ({c: (t, null) if mask.all() else (t.filter(mask), null[mask])
                                 for c, (t, null) in texts.items() if c not in protect.PROTECTED}
                                for mask in (new, changed))
    return Sorted(new=protect.protect(_ready(valid, hashes, new, leads), state.key_ring),
                  new_texts=new_texts,
                  changed=protect.protect(_ready(valid, hashes, changed, leads), state.key_ring),
                  changed_texts=changed_texts,
                  rejected_rows=batch.rejected_rows, warnings=batch.warnings, keys=keys)


def _ready(valid: pd.DataFrame, hashes: np.ndarray, mask: np.ndarray, leads: LeadTable) -> pd.DataFrame:
    """The rows of ``mask`` with their reminder dates from the catalogue (as
    leads.refresh_ledger_dates sets them) and row hash."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    out = valid.copy(deep=False) if mask.all() else valid.loc[mask].reset_index(drop=True)
    expiry = np.array(pa.array(out["expiry_date"].array).cast(pa.int32()), dtype=np.int64)  # days since 1970
    for k, column in enumerate(("first_reminder_on", "second_reminder_on")):
        days = leads.days_before_expiry(out["licence_name"], expiry, stage=k + 1)
        due = pa.array(np.nan_to_num(expiry - days).astype(np.int32), mask=np.isnan(days))
        out[column] = pd.Series(pd.arrays.ArrowExtensionArray(due.cast(pa.date32())))
    out["row_hash"] = hashes[mask]
    return out


def _keys_learned(batch: Validated, state: _LedgerState) -> pd.DataFrame:
    """staging_key rows: source keys of quarantined rows now valid (``fixed_key``), and the
    licence numbers of rejected rows that say revoked or cancelled (that status is merged all the
    same: a revocation must not wait for the row's dates to be fixed)."""
    import pandas as pd

    from licence_reminder.validation.rules import normalise_status

    found = [(k, "fixed_key") for k in sorted(_fixed_source_keys(batch.valid_source_keys, state))]
    for rej in batch.rejected:
        status = normalise_status(rej.raw.get("status"))
        if (rej.licence_no and len(rej.licence_no) <= LICENCE_NO_LENGTH and status in ("revoked", "cancelled")
                and not any(f.rule in DUPLICATE_REJECTIONS for f in rej.failures)):
            found.append((rej.licence_no, status))
    return pd.DataFrame(found, columns=["licence_no", "kind"], dtype=object)


def _fixed_source_keys(keys: np.ndarray | None, state: _LedgerState) -> set[str]:
    """Source keys of rows in quarantine that this batch holds valid (quarantine_resolve_fixed)."""
    if keys is None or not len(keys) or not state.quarantined_source_keys:
        return set()
    import pandas as pd

    from licence_reminder.validation.rules import as_text

    # keys come as the driver gives them (mostly int): match natively, word only the matches
    wanted = state.quarantined_source_keys | {int(k) for k in state.quarantined_source_keys
                                              if k.isdigit() and len(k) < 19}
    hits = keys[pd.Series(keys, dtype=object).isin(wanted).to_numpy()]
    texts = (as_text(k) for k in hits)
    return {t[:SOURCE_KEY_LENGTH] for t in texts if t is not None} & state.quarantined_source_keys


def _vanished(index: LedgerIndex, seen: pa.Array, plan: SyncPlan, dept: Department,
              stats: StageStats) -> Sorted:
    """Full reconciliation: the ledger's active licences the source no longer returns (not in
    ``seen``, the extract's licence numbers), as staging_key rows. More than
    ``max_vanished_share`` of them (and more than VANISHED_ALWAYS_ALLOWED) fails the run."""
    import pandas as pd

    seen = seen.drop_null()
    gone = index.gone(seen)
    active, max_share = index.active, dept.source.sync.max_vanished_share
    if len(gone) > VANISHED_ALWAYS_ALLOWED and len(gone) > max_share * active:
        raise PermanentError(
            f"department {plan.dept_code}: this full run would mark {len(gone)} of the ledger's "
            f"{active} active licences ({len(gone) / active:.0%}) as gone from the source, more than "
            f"source.sync.max_vanished_share ({max_share:g}) allows; the extract read "
            f"{len(seen)} licence numbers. An emptied or half-loaded table, a wrong WHERE or the "
            "wrong database? Nothing was changed. If the licences really are gone, raise "
            "max_vanished_share in the department's file for one run.")
    stats.vanished = len(gone)
    empty = pd.DataFrame()
    return Sorted(new=empty, new_texts={}, changed=empty, changed_texts={}, rejected_rows=empty,
                  warnings=empty, keys=pd.DataFrame({"licence_no": gone, "kind": "vanished"}, dtype=object))
