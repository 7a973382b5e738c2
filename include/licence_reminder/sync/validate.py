"""Stage 2 of a sync — validate: every chunk against every rule (Great Expectations), the rows of
duplicated licence numbers decided, rejected rows made ready for quarantine, warnings for the
licences that load with them.

Chunks are validated in batches of :data:`GX_BATCH_ROWS` rows: a Great Expectations run costs
about 0.15 s here whatever its rows, so one run per 50,000-row chunk spent more time in GX's setup
than in the rest of the validation. The first :data:`FIRST_BATCH_ROWS` rows go alone, so that the
ledger starts loading as early as it can: nothing is loaded before them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from licence_reminder.protect import masked_raw
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY, SOURCE_KEY_LENGTH
from licence_reminder.registry import Catalogue
from licence_reminder.sync.flow import Extracted, Findings, StageStats, Validated
from licence_reminder.sync.ledger_state import LedgerState
from licence_reminder.validation.rules import DUPLICATE_IN_SOURCE, DUPLICATE_REJECTIONS, TEXT_LIMITS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa

    from licence_reminder.validation.duplicates import Duplicates

log = logging.getLogger(__name__)

#: rows one Great Expectations run validates (several chunks)
GX_BATCH_ROWS = 100_000
#: the run's first batch: the ledger waits for it (1,000,000 new licences, the first load began
#: 0.3 s sooner with 10,000 rows than with the whole first chunk of 50,000)
FIRST_BATCH_ROWS = 10_000
#: rejected rows and warnings kept in memory as examples for the data-quality report
EXAMPLES_KEPT = 500
#: the ledger's width of licence_no (and of the quarantine's and staging's)
LICENCE_NO_LENGTH = TEXT_LIMITS["licence_no"]
#: the catalogue's and quarantine's width of licence_name
LICENCE_NAME_LENGTH = 128
#: a rejected row's values are kept in quarantine up to this many characters each: a register's
#: runaway text must not make the row, and with it the run, too big to store
RAW_VALUE_LIMIT = 2000
_WARNING_COLUMNS = ["licence_no", "rule", "column_name", "message"]


def validate(
    extracted: Extracted,
    catalogue: Catalogue,
    state: LedgerState,
    *,
    today: dt.date,
    stats: StageStats,
    findings: Findings,
) -> Iterator[Validated]:
    """Validated batches of the extract's chunks, in order; ``stats`` and ``findings`` filled as
    they go. A full run does not validate again the rows the ledger holds exactly as the source
    gives them (:meth:`LedgerState.skippable`): they are counted read, valid and unchanged."""
    import numpy as np

    from licence_reminder.validation.duplicates import from_identities
    from licence_reminder.validation.suite import Validator

    validator = Validator(catalogue_names={e.licence_name for e in catalogue.entries}, today=today)
    held: list[
        tuple[pd.DataFrame, np.ndarray, np.ndarray]
    ] = []  # chunk, its rows' positions, source hashes
    # the first rows go alone, so that the ledger starts loading early; a run skipping the rows
    # read as before has little to load, and one GX run over what is left costs least
    first = not state.skips
    held_rows, read = 0, 0
    extra_warnings = None

    def validated(batch: list[tuple[pd.DataFrame, np.ndarray, np.ndarray]]) -> Iterator[Validated]:
        nonlocal extra_warnings
        for result in _validate_held(validator, batch):
            yield _validated(*result, stats, findings, extra_warnings)
            extra_warnings = None

    for chunk in extracted.chunks:
        if (
            not stats.duplicates_checked
        ):  # asked once the first chunk came: a quiet day asks nothing
            rows = extracted.identities()
            validator.duplicates = from_identities(
                rows.numbers, rows.stamps, rows.keys, validator.tz
            )
            stats.duplicates_checked = True
            extra_warnings = duplicate_warnings(validator.duplicates)
        positions = np.arange(read, read + len(chunk), dtype=np.int64)
        read += len(chunk)
        hashes = source_hashes(chunk)
        if state.skips:
            numbers = licence_numbers(chunk)
            same = state.skippable(numbers, hashes, validator.duplicates.winners)
            if same.any():
                validator.read_as_before(numbers.filter(same))
                _read_as_before(stats, int(same.sum()))
                kept = ~same
                chunk, positions, hashes = (
                    chunk.loc[kept].reset_index(drop=True),
                    positions[kept],
                    hashes[kept],
                )
                if not len(chunk):
                    continue
        if first:
            first = False
            head = min(len(chunk), FIRST_BATCH_ROWS)
            yield from validated([(chunk.iloc[:head], positions[:head], hashes[:head])])
            if head == len(chunk):
                continue
            chunk, positions, hashes = (
                chunk.iloc[head:].reset_index(drop=True),
                positions[head:],
                hashes[head:],
            )
        held.append((chunk, positions, hashes))
        held_rows += len(chunk)
        if held_rows < GX_BATCH_ROWS:
            continue
        yield from validated(held)
        held, held_rows = [], 0
    if held:
        yield from validated(held)
    findings.totals = dict(validator.totals)
    stats.counts_by_rule = dict(validator.totals)


def _validate_held(
    validator: Any, held: list[tuple[pd.DataFrame, np.ndarray, np.ndarray]]
) -> Iterator[tuple[Any, np.ndarray]]:
    """(result, valid rows' source hashes) of each held chunk, with one GX run over them all."""
    results = validator.validate_many([c for c, _p, _h in held], [p for _c, p, _h in held])
    for result, (_chunk, _positions, hashes) in zip(results, held, strict=True):
        yield result, hashes[result.valid_at]


def _read_as_before(stats: StageStats, n: int) -> None:
    stats.rows_read += n
    stats.rows_valid += n
    stats.unchanged += n
    stats.rows_read_as_before += n


def source_hashes(chunk: pd.DataFrame) -> np.ndarray:
    """The md5 of each row as the source gave it (16 bytes a row): its canonical columns' texts
    before any rule touched them (ledger.source_hash, in hex), a missing column as empty."""
    import pyarrow as pa

    from licence_reminder.sync import rows

    n = len(chunk)
    texts = [
        rows.column_text(chunk[c])[0]
        if c in chunk.columns
        else pa.array([""] * n, type=pa.string())
        for c in CANONICAL_COLUMNS
    ]
    return rows.row_digests(texts)


def licence_numbers(chunk: pd.DataFrame) -> pa.Array:
    """The rows' licence numbers as the validator reads them (trimmed; null where missing)."""
    import pyarrow as pa

    from licence_reminder.validation.suite import normalised_text

    if "licence_no" not in chunk.columns:
        return pa.nulls(len(chunk), type=pa.string())
    return pa.array(normalised_text(chunk["licence_no"]), type=pa.string())


def _validated(
    result: Any,
    hashes: np.ndarray,
    stats: StageStats,
    findings: Findings,
    extra_warnings: pd.DataFrame | None,
) -> Validated:
    import pandas as pd

    stats.rows_read += len(result.valid) + len(result.rejected)
    stats.rows_valid += len(result.valid)
    stats.rows_rejected += len(result.rejected)
    warnings = result.warnings
    if warnings is not None and len(warnings):
        stats.rows_warned += warnings["licence_no"].nunique()
        room = EXAMPLES_KEPT - len(findings.warnings)
        if room > 0:
            findings.warnings.extend(warnings.head(room).to_dict("records"))
        # a duplicate's warning comes from the decision over the whole source (duplicate_warnings);
        # the value is the report's example, masked there, never stored
        warnings = warnings.loc[warnings["rule"] != DUPLICATE_IN_SOURCE, _WARNING_COLUMNS]
    else:
        warnings = pd.DataFrame(columns=_WARNING_COLUMNS, dtype=object)
    if extra_warnings is not None and len(extra_warnings):
        warnings = pd.concat([warnings, extra_warnings], ignore_index=True)
    room = EXAMPLES_KEPT - len(findings.rejections)
    if room > 0:
        findings.rejections.extend(result.rejected[:room])
    _see_watermark(stats, result)
    return Validated(
        valid=result.valid,
        valid_source_keys=result.valid_source_keys,
        valid_source_hashes=hashes,
        rejected=result.rejected,
        rejected_rows=rejection_rows(result.rejected),
        warnings=warnings,
    )


def _see_watermark(stats: StageStats, result: Any) -> None:
    """The latest stamp read, valid rows' and rejected rows' alike (unless a rejected row's stamp
    is the bad value itself)."""
    from licence_reminder.validation.rules import parse_datetime

    latest = None
    stamps = result.valid["source_updated_at"].dropna()
    if len(stamps):
        latest = stamps.max()
        latest = latest.to_pydatetime() if hasattr(latest, "to_pydatetime") else latest
    for rej in result.rejected:
        if any(f.column == "source_updated_at" for f in rej.failures):
            continue
        try:
            stamp = (
                parse_datetime(rej.raw.get("source_updated_at"))
                if rej.raw.get("source_updated_at")
                else None
            )
        except (ValueError, TypeError):
            stamp = None
        if stamp is not None and (latest is None or stamp > latest):
            latest = stamp
    if latest is not None:
        current = dt.datetime.fromisoformat(stats.watermark_to) if stats.watermark_to else None
        if current is None or latest > current:
            stats.watermark_to = latest.isoformat(sep=" ")


def duplicate_warnings(found: Duplicates) -> pd.DataFrame:
    """staging_warning rows of the licences loaded from a number the source holds more than once:
    decided over the whole source, so that a run reading only changed rows keeps them too."""
    import pandas as pd

    from licence_reminder.validation.duplicates import WINS

    rows = [
        (number, DUPLICATE_IN_SOURCE, "licence_no", found.reason(number, WINS))
        for number, winner in sorted(found.winners.items())
        if not winner.tie
    ]
    return pd.DataFrame(rows, columns=_WARNING_COLUMNS, dtype=object)


def rejection_rows(rejected: list[Any]) -> pd.DataFrame:
    """staging_rejection rows: one open quarantine entry per key (below), every rule and reason,
    the raw values (cut at RAW_VALUE_LIMIT), and the expiry date and licence name as far as they
    can be read (a quarantined licence that expires shows in the lapsed report)."""
    import pandas as pd

    rows = []
    for rej in rejected:
        # identity numbers are kept masked, here as in the ledger (protect.py)
        raw_json = json.dumps(
            {k: _kept_text(v) for k, v in masked_raw(rej.raw).items()},
            ensure_ascii=False,
            default=str,
            sort_keys=True,
        )
        source_key = rej.raw.get(SOURCE_KEY)
        source_key = None if source_key is None else str(source_key)[:SOURCE_KEY_LENGTH]
        # One open quarantine entry per key. A row without a licence number is known by its key
        # in the source, else by its content (less its stamp, whose text varies); a duplicate by
        # its number and that, or it would take the place of the entry of the number's other row.
        if rej.licence_no and not any(f.rule in DUPLICATE_REJECTIONS for f in rej.failures):
            key = rej.licence_no
        else:
            if source_key is not None:
                row = f"k{source_key}"
            else:
                content = {k: v for k, v in rej.raw.items() if k != "source_updated_at"}
                row = hashlib.md5(
                    json.dumps(content, ensure_ascii=False, default=str, sort_keys=True).encode()
                ).hexdigest()[:12]
            key = f"{rej.licence_no[:60]}#{row}" if rej.licence_no else f"row:{row}"
        # a number too long for the ledger (text_value:licence_no) is kept whole in raw_values
        rows.append(
            (
                key[:80],
                rej.licence_no and rej.licence_no[:LICENCE_NO_LENGTH],
                source_key,
                rej.row_number,
                ",".join(sorted({f.rule for f in rej.failures}))[:1000],
                json.dumps([asdict(f) for f in rej.failures], ensure_ascii=False),
                raw_json,
                *_lapse_fields(rej.raw),
            )
        )
    return pd.DataFrame(
        rows,
        columns=[
            "record_key",
            "licence_no",
            "source_key",
            "source_row",
            "rules",
            "reasons",
            "raw_values",
            "expiry_date",
            "licence_name",
        ],
        dtype=object,
    )


def _kept_text(value: object) -> object:
    if isinstance(value, str) and len(value) > RAW_VALUE_LIMIT:
        return value[:RAW_VALUE_LIMIT] + f"… ({len(value)} characters)"
    return value


def _lapse_fields(raw: dict[str, Any]) -> tuple[dt.date | None, str | None]:
    from licence_reminder.validation.rules import as_text, parse_date

    try:
        expiry = parse_date(raw.get("expiry_date"))
    except (ValueError, TypeError):
        expiry = None
    name = as_text(raw.get("licence_name"))
    return expiry, name[:LICENCE_NAME_LENGTH] if name else None
