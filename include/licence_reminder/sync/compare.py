"""Stage 3 of a sync — compare with the ledger: which valid rows are licences the ledger never
held (loaded straight into it), which it holds otherwise (staged for the merge), which it holds as
they are (not written at all); which licences a full run no longer read (gone from the source);
what rejected rows tell all the same (a revocation, a quarantined row now valid).

A full run compares with the department's ledger rows read once at its start
(:class:`~licence_reminder.sync.ledger_state.LedgerIndex`: 64-bit keys of the licence numbers and
the rows' md5 digests, no Python object per licence); a run reading only changed rows asks the
server about each batch instead (:func:`compare_on_server`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TYPE_CHECKING

from licence_reminder import protect
from licence_reminder.db import sql
from licence_reminder.errors import PermanentError, classify_db_error
from licence_reminder.leads import LeadTable
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY_LENGTH
from licence_reminder.registry import Catalogue, Department
from licence_reminder.sync import rows
from licence_reminder.sync.flow import Extracted, Sorted, StageStats, SyncPlan, Validated
from licence_reminder.sync.ledger_state import LedgerIndex, LedgerState
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


def compare(
    batches: Iterator[Validated],
    extracted: Extracted,
    state: LedgerState,
    ledger: Engine,
    dept: Department,
    catalogue: Catalogue,
    plan: SyncPlan,
    *,
    stats: StageStats,
) -> Iterator[Sorted]:
    """Each validated batch sorted for the ledger; after the last, in a full run, the licences the
    source no longer returns."""
    leads = LeadTable(catalogue)
    for batch in batches:
        yield _sort(batch, state, leads, ledger, dept, stats)
    if state.index is not None:
        yield _vanished(state.index, extracted.identities().numbers, plan, dept, stats)


def compare_on_server(
    conn: Connection, dept_code: str, numbers: np.ndarray, hashes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
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
            rows.write(
                conn,
                "chunk_hash",
                pd.DataFrame({"licence_no": numbers, "row_hash": hashes}, dtype=object),
                {},
            )
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
        found = conn.execute(
            stmt, {"dept_code": dept_code, "licence_nos": as_list[i : i + _LOOKUP_BATCH]}
        )
        known.update((no, (h, bool(gone))) for no, h, gone in found)
    held = np.fromiter((no in known for no in as_list), dtype=bool, count=len(as_list))
    same = np.fromiter(
        (known.get(no) == (h, False) for no, h in zip(as_list, hashes, strict=True)),
        dtype=bool,
        count=len(as_list),
    )
    return held, same


def _sort(
    batch: Validated,
    state: LedgerState,
    leads: LeadTable,
    ledger: Engine,
    dept: Department,
    stats: StageStats,
) -> Sorted:
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
        held, same = state.index.compare(texts["licence_no"][0], hashes, batch.valid_source_hashes)
    else:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with ledger.connect() as conn:
                held, same = compare_on_server(conn, dept.code, numbers, hashes)
        except SQLAlchemyError as exc:
            raise classify_db_error(
                exc, what=f"department {dept.code}: comparing with the ledger"
            ) from exc
    quarantined = (
        np.fromiter((n in state.in_quarantine for n in numbers), dtype=bool, count=len(numbers))
        if state.in_quarantine
        else np.zeros(len(numbers), dtype=bool)
    )
    new = (
        ~held & ~quarantined
    )  # a quarantined number is staged: quarantine_resolve_fixed finds it there
    changed = (held & ~same) | quarantined
    keys = _keys_learned(batch, state)
    stats.statuses_from_rejected += int((keys["kind"] != "fixed_key").sum()) if len(keys) else 0
    stats.staged += int(new.sum() + changed.sum())
    stats.unchanged += len(valid) - int(new.sum() + changed.sum())
    # the texts of identity numbers are in clear: the files take the protected columns instead
    new_texts, changed_texts = (
        {
            c: (t, null) if mask.all() else (t.filter(mask), null[mask])
            for c, (t, null) in texts.items()
            if c not in protect.PROTECTED
        }
        for mask in (new, changed)
    )
    sources = batch.valid_source_hashes
    new_rows, new_protected = _stored(_ready(valid, hashes, new, leads), sources, new, state)
    changed_rows, changed_protected = _stored(
        _ready(valid, hashes, changed, leads), sources, changed, state
    )
    return Sorted(
        new=new_rows,
        new_texts={**new_texts, **new_protected},
        changed=changed_rows,
        changed_texts={**changed_texts, **changed_protected},
        rejected_rows=batch.rejected_rows,
        warnings=batch.warnings,
        keys=keys,
    )


def _ready(
    valid: pd.DataFrame, hashes: np.ndarray, mask: np.ndarray, leads: LeadTable
) -> pd.DataFrame:
    """The rows of ``mask`` with their reminder dates from the catalogue (as
    leads.refresh_ledger_dates sets them) and row hash."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    out = valid.copy(deep=False) if mask.all() else valid.loc[mask].reset_index(drop=True)
    expiry = np.array(
        pa.array(out["expiry_date"].array).cast(pa.int32()), dtype=np.int64
    )  # days since 1970
    for k, column in enumerate(("first_reminder_on", "second_reminder_on")):
        days = leads.days_before_expiry(out["licence_name"], expiry, stage=k + 1)
        due = pa.array(np.nan_to_num(expiry - days).astype(np.int32), mask=np.isnan(days))
        out[column] = pd.Series(pd.arrays.ArrowExtensionArray(due.cast(pa.date32())))
    out["row_hash"] = hashes[mask]
    return out


def _stored(
    ready: pd.DataFrame, source_hashes: np.ndarray, mask: np.ndarray, state: LedgerState
) -> tuple[pd.DataFrame, rows.Texts]:
    """Rows as the ledger stores them: identity numbers masked beside their digests, then the
    hash of the row as the source gave it (the order of the load statements' columns); and the
    texts of the identity-number and digest columns for the load files."""
    out, texts = protect.protect_texts(ready, state.key_ring)
    out["source_hash"] = rows.hex_of(source_hashes if mask.all() else source_hashes[mask])
    return out, texts


def _keys_learned(batch: Validated, state: LedgerState) -> pd.DataFrame:
    """staging_key rows: source keys of quarantined rows now valid (``fixed_key``), and the
    licence numbers of rejected rows that say revoked or cancelled (that status is merged all the
    same: a revocation must not wait for the row's dates to be fixed)."""
    import pandas as pd

    from licence_reminder.validation.rules import normalise_status

    found = [(k, "fixed_key") for k in sorted(_fixed_source_keys(batch.valid_source_keys, state))]
    for rej in batch.rejected:
        status = normalise_status(rej.raw.get("status"))
        if (
            rej.licence_no
            and len(rej.licence_no) <= LICENCE_NO_LENGTH
            and status in ("revoked", "cancelled")
            and not any(f.rule in DUPLICATE_REJECTIONS for f in rej.failures)
        ):
            found.append((rej.licence_no, status))
    return pd.DataFrame(found, columns=["licence_no", "kind"], dtype=object)


def _fixed_source_keys(keys: np.ndarray | None, state: LedgerState) -> set[str]:
    """Source keys of rows in quarantine that this batch holds valid (quarantine_resolve_fixed)."""
    if keys is None or not len(keys) or not state.quarantined_source_keys:
        return set()
    import pandas as pd

    from licence_reminder.validation.rules import as_text

    # keys come as the driver gives them (mostly int): match natively, word only the matches
    wanted = state.quarantined_source_keys | {
        int(k) for k in state.quarantined_source_keys if k.isdigit() and len(k) < 19
    }
    hits = keys[pd.Series(keys, dtype=object).isin(wanted).to_numpy()]
    texts = (as_text(k) for k in hits)
    return {t[:SOURCE_KEY_LENGTH] for t in texts if t is not None} & state.quarantined_source_keys


def _vanished(
    index: LedgerIndex, seen: pa.Array, plan: SyncPlan, dept: Department, stats: StageStats
) -> Sorted:
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
            "max_vanished_share in the department's file for one run."
        )
    stats.vanished = len(gone)
    empty = pd.DataFrame()
    return Sorted(
        new=empty,
        new_texts={},
        changed=empty,
        changed_texts={},
        rejected_rows=empty,
        warnings=empty,
        keys=pd.DataFrame({"licence_no": gone, "kind": "vanished"}, dtype=object),
    )
