"""What the stages of a sync hand on to each other: plain data, so that no stage imports another.

plan     (plan.py)       SyncPlan: the run, its mode, where the extract starts
read     (extract.py)    Extracted: the source's chunks, and what the run needs of it besides
validate (validate.py)   Validated: per batch of chunks, valid rows, rejected rows, warnings
compare  (compare.py)    Sorted: per batch, new and changed rows with their texts, keys learned
load     (load.py)       PublishStats: the one transaction's outcome
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    import pyarrow as pa


@dataclass
class SyncPlan:
    run_id: str
    dept_code: str
    mode: str  # "incremental" or "full"
    watermark_from: dt.datetime | None
    lookback_seconds: int = 0
    #: the source's clock when the last committed run began to read (None: not known)
    source_read_before: dt.datetime | None = None

    @property
    def read_after(self) -> dt.datetime | None:
        """The extract's lower bound. Rows stamped after the watermark, and rows stamped within the
        lookback before the last run began to read: a transaction in flight then may have committed
        rows stamped before it. Counted back from that moment, not from the watermark, so that a
        quiet register's last bulk change is not read again day after day."""
        if self.watermark_from is None:
            return None
        back = dt.timedelta(seconds=self.lookback_seconds)
        if self.source_read_before is None:
            return self.watermark_from - back
        return min(self.watermark_from, self.source_read_before - back)

    def to_xcom(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("watermark_from", "source_read_before"):
            d[key] = d[key].isoformat() if d[key] else None
        return d

    @classmethod
    def from_xcom(cls, d: dict[str, Any]) -> SyncPlan:
        def when(key: str) -> dt.datetime | None:
            return dt.datetime.fromisoformat(d[key]) if d.get(key) else None

        return cls(
            d["run_id"],
            d["dept_code"],
            d["mode"],
            when("watermark_from"),
            d.get("lookback_seconds", 0),
            when("source_read_before"),
        )


@dataclass
class StageStats:
    rows_read: int = 0
    rows_valid: int = 0
    rows_rejected: int = 0
    staged: int = 0
    unchanged: int = 0
    vanished: int = 0
    #: rejected rows that say revoked or cancelled (their status is merged all the same)
    statuses_from_rejected: int = 0
    #: rows loaded with warnings (rules of severity WARN failed)
    rows_warned: int = 0
    #: rows a full run did not validate again: the ledger holds them exactly as the source gives them
    rows_read_as_before: int = 0
    #: the whole source was searched for licence numbers it holds twice
    duplicates_checked: bool = False
    #: renewal applications the department's side table lists (source.renewals), None: no table
    renewal_applications: int | None = None
    watermark_to: str | None = None
    source_read_at: str | None = None
    counts_by_rule: dict[str, int] = field(default_factory=dict)
    report_path: str | None = None


@dataclass
class Extracted:
    """Stage 1's output: the source's chunks, read as they are consumed, and what else the run
    reads of the source, on demand."""

    #: the source's clock before the first row was read: what the next run counts back from
    read_at: dt.datetime
    #: the canonical chunks of the rows to sync
    chunks: Iterator[pd.DataFrame]
    #: every row of the whole extract as runs tell rows apart, read once
    identities: Callable[[], Identities]
    #: the department's renewal applications (source.renewals: licence_no, applied_on), or None
    applications: pd.DataFrame | None


@dataclass
class Identities:
    """Every row of a department's whole extract: its licence number (as the validator reads it;
    None where missing), its change time and its key as read, when the extract returns them."""

    numbers: pa.Array
    stamps: pa.Array | pa.ChunkedArray | None
    keys: pa.Array | pa.ChunkedArray | None


@dataclass
class Findings:
    """What validation found, for the data-quality report and the run's record."""

    #: rows, valid, rejected, warned; rejected rows by rule; ``warn:<rule>``: warned rows by rule
    totals: dict[str, int] = field(default_factory=dict)
    #: some rejected rows (validation.suite.Rejection), as examples
    rejections: list[Any] = field(default_factory=list)
    #: some warnings of loaded rows (licence_no, rule, column_name, message, value), as examples
    warnings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Validated:
    """A batch of chunks, validated (stage 2)."""

    valid: pd.DataFrame
    #: the valid rows' source keys as read, when the chunks carry them
    valid_source_keys: np.ndarray | None
    #: the md5 of each valid row as the source gave it (16 bytes a row; ledger.source_hash in hex)
    valid_source_hashes: np.ndarray
    #: validation.suite.Rejection of each rejected row
    rejected: list[Any]
    #: rows for staging_rejection (quarantine)
    rejected_rows: pd.DataFrame
    #: rows for staging_warning
    warnings: pd.DataFrame


@dataclass
class Sorted:
    """A batch made ready for the ledger (stage 3): what the run's transaction loads."""

    #: licences the ledger never held (loaded straight into it), and their column texts
    new: pd.DataFrame
    new_texts: dict[str, Any]
    #: licences it holds differently (or as vanished), and rows leaving quarantine: staged
    changed: pd.DataFrame
    changed_texts: dict[str, Any]
    rejected_rows: pd.DataFrame
    warnings: pd.DataFrame
    #: staging_key rows: source keys of quarantined rows now valid, statuses of rejected rows,
    #: licences gone from the source
    keys: pd.DataFrame


@dataclass
class PublishStats:
    inserted: int = 0
    updated: int = 0
    renewed: int = 0
    vanished: int = 0
    quarantined: int = 0
    quarantine_resolved: int = 0
    reminders_cancelled: int = 0
    warnings_opened: int = 0
    warnings_resolved: int = 0
    #: licences whose renewal application the side table gave this run (source.renewals)
    applications: int = 0


@dataclass
class RunResult:
    stats: StageStats
    published: PublishStats
    findings: Findings
    #: seconds: reading, validating and comparing (the ledger loading meanwhile), then loading
    #: what was still queued, then the merge statements and the commit
    timings: dict[str, float] = field(default_factory=dict)
