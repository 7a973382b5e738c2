"""A department's daily sync: extract → validate → stage, then publish in one transaction.

Write–audit–publish. Staging tables (in the ledger database) take the valid rows whose content
differs from the ledger and every rejected row; ``publish`` then merges them set-based in a single
transaction together with quarantine, history, reminder cancellation and the watermark. A run that
fails anywhere leaves the ledger as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder import staging
from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import PermanentError, classify_db_error
from licence_reminder.leads import LeadTable, refresh_ledger_dates
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY, SOURCE_KEY_LENGTH
from licence_reminder.registry import Catalogue, Department
from licence_reminder.validation.rules import DUPLICATE_IN_SOURCE, TEXT_LIMITS

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from sqlalchemy import Engine

    from licence_reminder.duplicates import Duplicates

log = logging.getLogger(__name__)

#: Business fields whose change is a change of the ledger row.
HASHED_COLUMNS = tuple(c for c in CANONICAL_COLUMNS if c != "source_updated_at")
#: Rejected rows kept in memory as examples for the data-quality report.
REJECTIONS_KEPT = 500
#: Rows one Great Expectations run validates (several chunks): a run costs about 0.3 s here
#: whatever its rows, so validating 50,000-row chunks one by one spent more time in GX's setup
#: than in the rest of a sync's validation; a chunk's own scratch stays per chunk.
GX_BATCH_ROWS = 100_000


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

        return cls(d["run_id"], d["dept_code"], d["mode"], when("watermark_from"),
                   d.get("lookback_seconds", 0), when("source_read_before"))


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
    #: the whole source was searched for licence numbers it holds twice (duplicates.scan)
    duplicates_checked: bool = False
    #: renewal applications the department's side table lists (source.renewals), None: no table
    renewal_applications: int | None = None
    watermark_to: str | None = None
    source_read_at: str | None = None
    counts_by_rule: dict[str, int] = field(default_factory=dict)
    report_path: str | None = None


def choose_mode(dept: Department, logical_date: dt.date, *, force_full: bool, has_watermark: bool) -> str:
    sync = dept.source.sync
    if force_full or sync.mode == "full" or not has_watermark:
        return "full"
    if sync.full_reconcile_weekday and logical_date.isoweekday() == sync.full_reconcile_weekday:
        return "full"
    return "incremental"


def register_department(engine: Engine, dept: Department, catalogue: Catalogue) -> None:
    """Mirror the department and its catalogue file into the ledger database.

    Staged rows carry reminder dates computed from the catalogue, so the ledger's dates need
    recomputing only when a lead time changes: then here, with the catalogue, in one transaction.
    """
    ts = local_now()
    with engine.begin() as conn:
        stored = {tuple(r) for r in conn.execute(sql("catalogue_leads", conn), {"dept_code": dept.code})}
        leads_changed = bool({(e.licence_name, e.first_lead_days, e.second_lead_days, e.lead_rule())
                              for e in catalogue.entries} - stored)
        conn.execute(sql("department_upsert", conn),
                     {"code": dept.code, "name": dept.name, "region_code": dept.region_code, "now": ts})
        conn.execute(
            sql("catalogue_upsert", conn),
            [
                {
                    "dept_code": dept.code,
                    **e.model_dump(),
                    "materials": json.dumps(e.materials, ensure_ascii=False),
                    "code": e.entry_code, "lead_rule": e.lead_rule(),
                    "updated_at": ts,
                }
                for e in catalogue.entries
            ],
        )
        if leads_changed:
            refresh_ledger_dates(conn, dept.code, catalogue)


def start_run(
    engine: Engine, dept: Department, *, run_id: str, logical_date: dt.date, force_full: bool = False
) -> SyncPlan:
    """Record the run and choose its mode."""
    with engine.begin() as conn:
        wm, read_at = (_as_datetime(v) for v in (
            conn.execute(sql("watermark_get", conn), {"dept_code": dept.code}).first() or (None, None)))
        mode = choose_mode(dept, logical_date, force_full=force_full, has_watermark=wm is not None)
        params = {"run_id": run_id, "dept_code": dept.code, "mode": mode, "now": local_now(),
                  "watermark_from": wm if mode == "incremental" else None}
        updated = conn.execute(sql("sync_run_restart", conn), params).rowcount
        if not updated:
            conn.execute(sql("sync_run_start", conn), params)
    return SyncPlan(run_id, dept.code, mode, wm if mode == "incremental" else None,
                    dept.source.sync.watermark_lookback_seconds, read_at)


def _as_datetime(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


@dataclass
class RunResult:
    stats: StageStats
    published: PublishStats
    #: anything with ``totals`` (the data-quality report's counts)
    validator: Any
    #: some rejected rows, as examples for the report
    rejections: list[Any]
    #: some warnings of loaded rows (licence_no, rule, column_name, message), as examples
    warnings: list[dict[str, Any]] = field(default_factory=list)
    #: seconds: reading and validating the extract (the ledger loading meanwhile), then loading
    #: what was still queued, then the merge statements and the commit
    timings: dict[str, float] = field(default_factory=dict)


def run(ledger: Engine, source: Engine, dept: Department, catalogue: Catalogue, plan: SyncPlan, *,
        today: dt.date, fail_after: str | None = None) -> RunResult:
    """Extract the source, validate each chunk and merge what changed into the ledger, all in the
    ledger's one transaction (:class:`Merge`): a run that fails anywhere leaves the ledger as it was.

    With ``source.sync.split_column`` the extract and validation are split over worker
    processes (parallel.py); their rows still go into the one transaction.
    """
    from licence_reminder.extract import source_clock

    import time

    started = time.perf_counter()
    read_at = source_clock(source, dept)  # before the first row: what the next run counts back from
    with Merge(ledger, plan) as merge:
        stats, (validator, kept, warned) = _extract(merge, ledger, source, dept, catalogue, plan, today=today)
        stats.source_read_at = read_at.isoformat(sep=" ")
        if dept.source.renewals is not None:
            stats.renewal_applications = _stage_applications(merge, source, dept)
        extracted = time.perf_counter()
        published = merge.publish(stats, today=today, fail_after=fail_after)
    timings = {"read_validate": extracted - started, **merge.timings}
    log.info("department %s: read and validated in %.1f s, then %.1f s loading what was queued, "
             "%.1f s merging", dept.code, timings["read_validate"], timings["loading"], timings["merge"])
    return RunResult(stats, published, validator, kept, warned, timings)


def _extract(merge: Merge, ledger: Engine, source: Engine, dept: Department, catalogue: Catalogue,
             plan: SyncPlan, *, today: dt.date) -> tuple[StageStats, Any]:
    from licence_reminder.extract import stream_chunks

    index = None
    if plan.mode == "full":  # compared with it in memory; read before workers fork, to share it
        with ledger.connect() as conn:
            index = staging.LedgerIndex.read(conn, dept.code)
    if dept.source.sync.split_column and dept.source.sync.workers > 1:
        import multiprocessing

        if not multiprocessing.current_process().daemon:
            from licence_reminder.parallel import extract_in_parallel

            return extract_in_parallel(merge, index, ledger, source, dept, catalogue, plan, today=today)
        # Python lets no daemonic process start children, as some executors run their tasks
        log.warning("department %s: this task runs in a daemonic process, which cannot start "
                    "sync workers; extracting in one process instead", dept.code)
    stager = ChunkStager(ledger, dept, catalogue, plan, today=today, bulk=merge.bulk,
                         folder=merge.folder, source=source, index=index)
    for chunk in stream_chunks(source, dept, watermark=plan.read_after):
        _hand_over(merge, stager.add(chunk))
    _hand_over(merge, stager.flush())
    stats = stager.stats
    if index is not None:
        stats.vanished, keys = stage_vanished(plan, index, stager.validator.licence_nos,
                                              max_share=dept.source.sync.max_vanished_share,
                                              bulk=merge.bulk, folder=merge.folder)
        merge.add([keys])
    stats.watermark_to = stager.max_wm.isoformat(sep=" ") if stager.max_wm else None
    stats.counts_by_rule = dict(stager.validator.totals)
    return stats, (stager.validator, stager.rejections_kept, stager.warnings_kept)


def _stage_applications(merge: Merge, source: Engine, dept: Department) -> int:
    """The department's renewal applications (its side table, read whole every run) into the run."""
    from licence_reminder.extract import renewal_applications

    found = renewal_applications(source, dept)
    if found.unreadable_dates:
        log.warning("department %s: %d renewal application(s) give an applied_on that is not a date; "
                    "taken as applied on the day first seen (source.renewals)", dept.code, found.unreadable_dates)
    merge.add([staging.prepare("staging_renewal", found.frame, bulk=merge.bulk, folder=merge.folder)])
    return len(found.frame)


def _hand_over(merge: Merge, ready: list[list[staging.Staged | None]]) -> None:
    for items in ready:
        merge.permits.acquire()  # given back once the chunk is loaded
        merge.add(items, done=merge.permits.release)


#: below this many, vanished licences are never too many (a small register's weekly deletions)
VANISHED_ALWAYS_ALLOWED = 10


def stage_vanished(plan: SyncPlan, index: staging.LedgerIndex, seen: Any, *, max_share: float = 1.0,
                   bulk: bool, folder: Path) -> tuple[int, staging.Staged | None]:
    """Full reconciliation: the ledger's active licences the source no longer returns (not in
    ``seen``, the extract's licence numbers), made ready for staging_key.

    More than ``max_share`` of them (and more than ``VANISHED_ALWAYS_ALLOWED``) fails the run."""
    import pandas as pd

    gone = index.gone(seen)
    active = index.active
    if len(gone) > VANISHED_ALWAYS_ALLOWED and len(gone) > max_share * active:
        raise PermanentError(
            f"department {plan.dept_code}: this full run would mark {len(gone)} of the ledger's "
            f"{active} active licences ({len(gone) / active:.0%}) as gone from the source, more than "
            f"source.sync.max_vanished_share ({max_share:g}) allows; the extract read "
            f"{len(seen)} licence numbers. An emptied or half-loaded table, a wrong WHERE or the "
            "wrong database? Nothing was changed. If the licences really are gone, raise "
            "max_vanished_share in the department's file for one run.")
    keys = pd.DataFrame({"licence_no": gone, "kind": "vanished"}, dtype=object)
    return len(gone), staging.prepare("staging_key", keys, bulk=bulk, folder=folder)


#: chunks made ready (validated, written to files) but not yet loaded: what the producers may
#: run ahead of the loading, in memory and on disk
_CHUNKS_AHEAD = 2


class Merge:
    """The run's one transaction on the ledger database: every row the run writes goes in it —
    licences the ledger never held straight into the ledger, changed ones and rejected rows
    into the staging tables — and :meth:`publish` merges the staging tables set-based, clears
    them and commits. Nothing is visible before that, and a failure anywhere rolls it all back.

    Loading a chunk keeps the server busy for seconds; it is done on a thread of its own while
    the chunks after it are read and validated (PyMySQL waits for the server outside the GIL).
    Producers take one of :attr:`permits` per chunk, given back once it is loaded.
    """

    def __init__(self, ledger: Engine, plan: SyncPlan) -> None:
        import multiprocessing
        import queue
        import threading

        self.plan = plan
        self.constants = {"run_id": plan.run_id, "dept_code": plan.dept_code, "now": local_now()}
        self.folder = Path(tempfile.mkdtemp(prefix="lr_sync_"))
        #: shared with forked workers, hence a process semaphore
        self.permits = multiprocessing.get_context("fork").Semaphore(_CHUNKS_AHEAD)
        self.inserted = 0
        self.timings: dict[str, float] = {}
        self._error: BaseException | None = None
        self._done = False
        self._conn = ledger.connect()
        try:
            self._txn = self._conn.begin()
            self.bulk = staging.bulk_loads(self._conn)
        except BaseException:
            self._conn.close()
            raise
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._load_queued, name="ledger-loader", daemon=True)
        if self.bulk:  # SQLite's connection stays on its own thread; its chunks are loaded at once
            self._thread.start()

    def __enter__(self) -> Merge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, items: list[staging.Staged | None], *, done: Any = None) -> None:
        """Load ``items`` (a chunk's, in order) into the transaction; ``done()`` once they are in."""
        self._raise_failure()
        chunk = [s for s in items if s is not None]
        if self._thread.is_alive():
            self._queue.put((chunk, done))
            return
        try:
            self._load(chunk)
        finally:
            if done is not None:
                done()

    def _load(self, chunk: list[staging.Staged]) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            for staged in chunk:
                staging.load(self._conn, staged, self.constants)
                if staged.table == "ledger":
                    self.inserted += staged.rows
        except SQLAlchemyError as exc:
            raise classify_db_error(
                exc, what=f"department {self.plan.dept_code}: loading the ledger database") from exc
        finally:
            for staged in chunk:
                if staged.path:
                    Path(staged.path).unlink(missing_ok=True)

    def _load_queued(self) -> None:
        while (job := self._queue.get()) is not None:
            chunk, done = job
            try:
                if self._error is None:
                    self._load(chunk)
            except BaseException as exc:  # noqa: BLE001 - raised in the run's own thread
                self._error = exc
            finally:
                if done is not None:
                    done()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _finish_loading(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_failure()

    def publish(self, stats: StageStats, *, today: dt.date, fail_after: str | None = None) -> PublishStats:
        """Merge the staging tables into the ledger, clear them and commit.

        ``fail_after`` names a step after which to raise: used by tests to show that a failure
        part-way leaves the ledger unchanged.
        """
        import time

        from sqlalchemy.exc import SQLAlchemyError

        waited = time.perf_counter()
        self._finish_loading()
        merging = time.perf_counter()
        conn, plan = self._conn, self.plan
        p = {**self.constants, "keep_applied": int(stats.renewal_applications is not None)}
        out = PublishStats()
        try:
            conn.execute(sql("history_changed", conn), p)
            out.renewed = conn.execute(sql("count_renewals", conn), p).scalar() or 0
            out.updated = conn.execute(sql("ledger_update_changed", conn), p).rowcount
            _maybe_fail(fail_after, "update")
            # the few staged licences the ledger never held (rows leaving quarantine)
            out.inserted = self.inserted + conn.execute(sql("ledger_insert_new", conn), p).rowcount
            if stats.statuses_from_rejected:  # its IN-subquery would cost MariaDB a pass per ledger row
                conn.execute(sql("history_status_from_rejected", conn), p)
                conn.execute(sql("ledger_status_from_rejected", conn), p)
            if stats.renewal_applications:
                applied = {**p, "today": today}  # an application without a date: the run's day
                conn.execute(sql("history_renewal_applied", conn), applied)
                out.applications = conn.execute(sql("ledger_renewal_applied", conn), applied).rowcount
            if plan.mode == "full" and stats.vanished:  # both scan the department's ledger rows
                conn.execute(sql("history_vanished", conn), p)
                out.vanished = conn.execute(sql("ledger_mark_vanished", conn), p).rowcount
            out.reminders_cancelled = conn.execute(sql("reminders_cancel_stale", conn), p).rowcount
            conn.execute(sql("outbox_cancel_orphaned", conn), p)
            conn.execute(sql("quarantine_upsert", conn), p)
            out.quarantined = stats.rows_rejected  # the upsert's rowcount counts an update twice in MySQL
            out.quarantine_resolved = conn.execute(sql("quarantine_resolve_fixed", conn), p).rowcount
            if plan.mode == "full":
                out.quarantine_resolved += conn.execute(sql("quarantine_resolve_gone", conn), p).rowcount
            conn.execute(sql("warning_seen", conn), p)
            out.warnings_opened = conn.execute(sql("warning_open", conn), p).rowcount
            out.warnings_resolved = conn.execute(sql("warning_resolve", conn), {
                **p, "full": int(plan.mode == "full"),
                "duplicates_checked": int(stats.duplicates_checked)}).rowcount
            _maybe_fail(fail_after, "quarantine")
            read_at = _as_datetime(stats.source_read_at)
            if stats.watermark_to:
                conn.execute(sql("watermark_upsert", conn), {
                    **p, "watermark": dt.datetime.fromisoformat(stats.watermark_to),
                    "source_read_at": read_at})
            elif read_at:
                conn.execute(sql("watermark_read_at", conn), {**p, "source_read_at": read_at})
            conn.execute(sql("sync_run_finish", conn), {
                **p, "status": "success", "watermark_to": stats.watermark_to,
                "rows_read": stats.rows_read, "rows_valid": stats.rows_valid,
                "rows_rejected": stats.rows_rejected, "rows_warned": stats.rows_warned,
                "inserted": out.inserted,
                "updated": out.updated, "renewed": out.renewed, "vanished": out.vanished,
                "quarantine_resolved": out.quarantine_resolved,
                "counts_by_rule": json.dumps(stats.counts_by_rule, ensure_ascii=False),
                "error": None,
            })
            for table in ("staging_licence", "staging_rejection", "staging_key", "staging_warning",
                          "staging_renewal"):
                conn.execute(sql(f"delete_{table}", conn), p)
            self._txn.commit()
        except SQLAlchemyError as exc:
            raise classify_db_error(exc, what=f"department {plan.dept_code}: merge into the ledger") from exc
        self._done = True
        self.timings = {"loading": merging - waited, "merge": time.perf_counter() - merging}
        return out

    def close(self) -> None:
        """Roll back what was not published, and drop the run's files."""
        try:
            if self._thread.is_alive():
                self._error = self._error or RuntimeError("the run stopped")  # the rest is not loaded
                self._queue.put(None)
                self._thread.join()
            if not self._done and self._txn.is_active:
                self._txn.rollback()
        finally:
            self._conn.close()
            shutil.rmtree(self.folder, ignore_errors=True)


class ChunkStager:
    """Validates chunks and sorts their rows for the run's transaction (:class:`Merge`): new
    licences, changed ones, rejected rows and what those tell; what one process (or one worker)
    accumulates."""

    def __init__(self, ledger: Engine, dept: Department, catalogue: Catalogue, plan: SyncPlan, *,
                 today: dt.date, bulk: bool, folder: Path, first_row: int = 0,
                 seen_before: set[str] | None = None, source: Engine | None = None,
                 index: staging.LedgerIndex | None = None, duplicates: Duplicates | None = None) -> None:
        """``bulk``, ``folder``: how and where chunks are made ready (``Merge.bulk``,
        ``Merge.folder``). ``source``: searched, once the first chunk comes, for the licence
        numbers it holds more than once (unless ``duplicates`` says already). ``index``: the
        ledger's rows of the department, read by a full run to compare with (else each chunk is
        compared on the server)."""
        from licence_reminder.validation.suite import Validator

        self.ledger, self.dept, self.plan, self.source = ledger, dept, plan, source
        self.bulk, self.folder, self.index = bulk, folder, index
        self.validator = Validator(catalogue_names={e.licence_name for e in catalogue.entries},
                                   today=today, first_row=first_row, seen_licence_nos=seen_before)
        self.leads = LeadTable(catalogue)
        self.stats = StageStats()
        if duplicates is not None:
            self.validator.duplicates = duplicates
            self.stats.duplicates_checked = True
        self.max_wm: dt.datetime | None = None
        self.rejections_kept: list[Any] = []
        self.warnings_kept: list[dict[str, Any]] = []
        self._held: list[pd.DataFrame] = []
        self._held_rows = 0
        # the first chunk goes alone, so that the ledger starts loading as early as it can
        self._batch_rows = 1
        with ledger.connect() as conn:
            self.in_quarantine = {r[0] for r in conn.execute(sql("quarantine_open_keys", conn),
                                                             {"dept_code": dept.code})}
            self.quarantined_source_keys = {
                r[0] for r in conn.execute(sql("quarantine_open_source_keys", conn), {"dept_code": dept.code})}
            # A first load compares nothing: every valid row is new.
            self.first_load = conn.execute(sql("ledger_holds_department", conn),
                                           {"dept_code": dept.code}).first() is None

    def add(self, chunk: pd.DataFrame) -> list[list[staging.Staged | None]]:
        """Take a chunk; what the run's transaction must load of the chunks validated by now, a
        list per chunk, in order. Chunks are validated together once they hold
        :data:`GX_BATCH_ROWS` rows (:meth:`flush` validates the rest)."""
        ready = []
        if self.source is not None and not self.stats.duplicates_checked:
            from licence_reminder.duplicates import scan

            self.validator.duplicates = scan(self.source, self.dept)
            self.stats.duplicates_checked = True
            ready.append([duplicate_warnings(self.validator.duplicates, bulk=self.bulk, folder=self.folder)])
        self._held.append(chunk)
        self._held_rows += len(chunk)
        return ready + (self.flush() if self._held_rows >= self._batch_rows else [])

    def flush(self) -> list[list[staging.Staged | None]]:
        """Validate the chunks taken and not validated yet; what to load of each."""
        chunks, self._held, self._held_rows = self._held, [], 0
        if not chunks:
            return []
        self._batch_rows = GX_BATCH_ROWS
        results = self.validator.validate_many(chunks)
        del chunks
        ready = [self._sorted(result) for result in results]
        del results
        staging.give_back_memory()  # the chunks' scratch, before the next ones are read
        return ready

    def _sorted(self, result: Any) -> list[staging.Staged | None]:
        self.stats.rows_read += len(result.valid) + len(result.rejected)
        self.stats.rows_valid += len(result.valid)
        self.stats.rows_rejected += len(result.rejected)
        warnings = result.warnings
        if warnings is not None and len(warnings):
            self.stats.rows_warned += warnings["licence_no"].nunique()
            room = REJECTIONS_KEPT - len(self.warnings_kept)
            if room > 0:
                self.warnings_kept.extend(warnings.head(room).to_dict("records"))
            # a duplicate's warning comes from the scan of the whole source (duplicate_warnings);
            # the value is the report's example, masked there, never stored
            warnings = warnings.loc[warnings["rule"] != DUPLICATE_IN_SOURCE,
                                    ["licence_no", "rule", "column_name", "message"]]
        new, changed, texts = self._sort(result.valid)
        rejected = self._rejection_frame(result.rejected)
        keys = self._keys_learned(result.valid_source_keys, result.rejected)
        self.stats.statuses_from_rejected += int((keys["kind"] != "fixed_key").sum()) if len(keys) else 0
        self.stats.staged += len(new) + len(changed)
        self.stats.unchanged += len(result.valid) - len(new) - len(changed)
        bulk, folder = self.bulk, self.folder
        return [staging.prepare("ledger", new, bulk=bulk, folder=folder, texts=texts[0]),
                staging.prepare("staging_licence", changed, bulk=bulk, folder=folder, texts=texts[1]),
                staging.prepare("staging_rejection", rejected, bulk=bulk, folder=folder),
                staging.prepare("staging_key", keys, bulk=bulk, folder=folder),
                None if warnings is None else staging.prepare("staging_warning", warnings, bulk=bulk,
                                                              folder=folder)]

    def _keys_learned(self, valid_keys: np.ndarray | None, rejected: list[Any]) -> pd.DataFrame:
        """staging_key rows: source keys of quarantined rows now valid (``fixed_key``), and the
        licence numbers of rejected rows that say revoked or cancelled (that status is merged
        all the same: a revocation must not wait for the row's mobile or dates to be fixed)."""
        import pandas as pd

        from licence_reminder.validation.rules import DUPLICATE_REJECTIONS, normalise_status

        rows = [(k, "fixed_key") for k in sorted(self._fixed_source_keys(valid_keys))]
        for rej in rejected:
            status = normalise_status(rej.raw.get("status"))
            if (rej.licence_no and len(rej.licence_no) <= LICENCE_NO_LENGTH and status in ("revoked", "cancelled")
                    and not any(f.rule in DUPLICATE_REJECTIONS for f in rej.failures)):
                rows.append((rej.licence_no, status))
        return pd.DataFrame(rows, columns=["licence_no", "kind"], dtype=object)

    def _fixed_source_keys(self, keys: np.ndarray | None) -> set[str]:
        """Source keys of rows in quarantine that this chunk holds valid (quarantine_resolve_fixed)."""
        if keys is None or not len(keys) or not self.quarantined_source_keys:
            return set()
        import pandas as pd

        from licence_reminder.validation.rules import as_text

        # keys come as the driver gives them (mostly int): match natively, word only the matches
        wanted = self.quarantined_source_keys | {int(k) for k in self.quarantined_source_keys
                                                 if k.isdigit() and len(k) < 19}
        hits = keys[pd.Series(keys, dtype=object).isin(wanted).to_numpy()]
        texts = (as_text(k) for k in hits)
        return {t[:SOURCE_KEY_LENGTH] for t in texts if t is not None} & self.quarantined_source_keys

    def _sort(self, valid: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, tuple[staging.Texts, staging.Texts]]:
        """(new, changed, their texts) of the valid rows, with their row hash and reminder dates:
        new are the licences the ledger has never held, loaded straight into it; changed are the
        ones it holds differently (or as vanished), and the rows leaving quarantine, staged for
        the merge. The rest are unchanged and not written at all."""
        import numpy as np

        numbers = valid["licence_no"].to_numpy(dtype=object)
        wm = valid["source_updated_at"].dropna()
        if len(wm):
            self._see_watermark(wm.max())
        texts = {c: staging.column_text(valid[c]) for c in HASHED_COLUMNS}
        hashes = staging.row_hashes([t for t, _null in texts.values()])
        if self.first_load:
            held = same = np.zeros(len(numbers), dtype=bool)
        elif self.index is not None:
            held, same = self.index.compare(texts["licence_no"][0], hashes)
        else:
            with self.ledger.connect() as conn:
                held, same = staging.compare(conn, self.dept.code, numbers, hashes)
        quarantined = (np.fromiter((n in self.in_quarantine for n in numbers), dtype=bool, count=len(numbers))
                       if self.in_quarantine else np.zeros(len(numbers), dtype=bool))
        new = ~held & ~quarantined  # a quarantined number is staged: quarantine_resolve_fixed finds it there
        changed = (held & ~same) | quarantined
        return (self._ready(valid, hashes, new), self._ready(valid, hashes, changed),
                tuple({c: (t, null) if mask.all() else (t.filter(mask), null[mask])
                       for c, (t, null) in texts.items()} for mask in (new, changed)))  # type: ignore[return-value]

    def _ready(self, valid: pd.DataFrame, hashes: np.ndarray, mask: np.ndarray) -> pd.DataFrame:
        """The rows of ``mask`` with their reminder dates from the catalogue (as
        leads.refresh_ledger_dates sets them, register_department) and row hash."""
        import numpy as np
        import pandas as pd

        import pyarrow as pa

        out = valid.copy(deep=False) if mask.all() else valid.loc[mask].reset_index(drop=True)
        expiry = np.array(pa.array(out["expiry_date"].array).cast(pa.int32()), dtype=np.int64)  # days since 1970
        for k, column in enumerate(("first_reminder_on", "second_reminder_on")):
            days = self.leads.days_before_expiry(out["licence_name"], expiry, stage=k + 1)
            due = pa.array(np.nan_to_num(expiry - days).astype(np.int32), mask=np.isnan(days))
            out[column] = pd.Series(pd.arrays.ArrowExtensionArray(due.cast(pa.date32())))
        out["row_hash"] = hashes[mask]
        return out

    def _see_watermark(self, wm: dt.datetime | None) -> None:
        if wm is not None and (self.max_wm is None or wm > self.max_wm):
            self.max_wm = wm

    def _rejection_frame(self, rejected: list[Any]) -> pd.DataFrame:
        import pandas as pd

        from licence_reminder.validation.rules import DUPLICATE_REJECTIONS

        rows = []
        for rej in rejected:
            # a rejected row still moves the watermark, unless its timestamp itself is bad
            if not any(f.column == "source_updated_at" for f in rej.failures):
                self._see_watermark(_parse_wm(rej.raw.get("source_updated_at")))
            raw_json = json.dumps({k: _kept_text(v) for k, v in rej.raw.items()}, ensure_ascii=False,
                                  default=str, sort_keys=True)
            source_key = rej.raw.get(SOURCE_KEY)
            source_key = None if source_key is None else str(source_key)[:SOURCE_KEY_LENGTH]
            # One open quarantine entry per key. A row without a licence number is known by its
            # key in the source, else by its content (less its stamp, whose text varies); a
            # duplicate by its number and that, or it would take the place of the entry of the
            # number's other (rejected) row.
            if rej.licence_no and not any(f.rule in DUPLICATE_REJECTIONS for f in rej.failures):
                key = rej.licence_no
            else:
                if source_key is not None:
                    row = f"k{source_key}"
                else:
                    content = {k: v for k, v in rej.raw.items() if k != "source_updated_at"}
                    row = hashlib.md5(json.dumps(content, ensure_ascii=False, default=str,
                                                 sort_keys=True).encode()).hexdigest()[:12]
                key = f"{rej.licence_no[:60]}#{row}" if rej.licence_no else f"row:{row}"
            # a number too long for the ledger (text_value:licence_no) is kept whole in raw_values
            rows.append((key[:80], rej.licence_no and rej.licence_no[:LICENCE_NO_LENGTH], source_key, rej.row_number,
                         ",".join(sorted({f.rule for f in rej.failures}))[:1000],
                         json.dumps([asdict(f) for f in rej.failures], ensure_ascii=False), raw_json,
                         *_lapse_fields(rej.raw)))
            if len(self.rejections_kept) < REJECTIONS_KEPT:
                self.rejections_kept.append(rej)
        return pd.DataFrame(rows, columns=["record_key", "licence_no", "source_key", "source_row", "rules",
                                           "reasons", "raw_values", "expiry_date", "licence_name"], dtype=object)


#: the ledger's width of licence_no (and of the quarantine's and staging's)
LICENCE_NO_LENGTH = TEXT_LIMITS["licence_no"]
#: the catalogue's and quarantine's width of licence_name
LICENCE_NAME_LENGTH = 128
#: a rejected row's values are kept in quarantine up to this many characters each: a register's
#: runaway text must not make the row, and with it the run, too big to store
RAW_VALUE_LIMIT = 2000


def _lapse_fields(raw: dict[str, Any]) -> tuple[dt.date | None, str | None]:
    """(expiry date, licence name) of a rejected row as far as they can be read: a quarantined
    licence that expires shows in the lapsed report (v_expired_without_delivery)."""
    from licence_reminder.validation.rules import as_text, parse_date

    try:
        expiry = parse_date(raw.get("expiry_date"))
    except (ValueError, TypeError):
        expiry = None
    name = as_text(raw.get("licence_name"))
    return expiry, name[:LICENCE_NAME_LENGTH] if name else None


def duplicate_warnings(found: Duplicates, *, bulk: bool, folder: Path) -> staging.Staged | None:
    """staging_warning rows of the licences loaded from a number the source holds more than once:
    from the scan of the whole source, so that a run reading only changed rows keeps them too."""
    import pandas as pd

    from licence_reminder.duplicates import WINS

    rows = [(number, DUPLICATE_IN_SOURCE, "licence_no", found.reason(number, WINS))
            for number, winner in sorted(found.winners.items()) if not winner.tie]
    frame = pd.DataFrame(rows, columns=["licence_no", "rule", "column_name", "message"], dtype=object)
    return staging.prepare("staging_warning", frame, bulk=bulk, folder=folder)


def _kept_text(value: object) -> object:
    if isinstance(value, str) and len(value) > RAW_VALUE_LIMIT:
        return value[:RAW_VALUE_LIMIT] + f"… ({len(value)} characters)"
    return value


def _parse_wm(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    try:
        from licence_reminder.validation.rules import parse_datetime

        return parse_datetime(value)
    except (ValueError, TypeError):
        return None


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


class InjectedFailure(RuntimeError):
    pass


def _maybe_fail(fail_after: str | None, step: str) -> None:
    if fail_after == step:
        raise InjectedFailure(f"injected failure after step {step!r}")


def fail_run(engine: Engine, run_id: str, error: str) -> None:
    with engine.begin() as conn:
        conn.execute(sql("sync_run_fail", conn),
                     {"run_id": run_id, "now": local_now(), "error": error[:4000]})


@dataclass
class Retired:
    run_id: str
    vanished: int = 0
    reminders_cancelled: int = 0
    messages_cancelled: int = 0
    quarantine_closed: int = 0


def retire_department(engine: Engine, dept_code: str, *, commit: bool) -> Retired:
    """Take a department out of the reminders, in one transaction: its active licences are
    marked vanished (kept, with a history row each), their unsent reminders and messages are
    cancelled, its open quarantine entries closed and its watermark forgotten, recorded as a
    ``retire`` run. Should the department return, its first run is full and brings its
    licences back. ``commit=False`` counts what would change and changes nothing."""
    now = local_now()
    out = Retired(run_id=f"{dept_code}:retire:{now:%Y%m%dT%H%M%S}")
    p = {"run_id": out.run_id, "dept_code": dept_code, "now": now}
    with engine.connect() as conn, conn.begin() as txn:
        conn.execute(sql("sync_run_start", conn), {**p, "mode": "retire", "watermark_from": None})
        conn.execute(sql("retire_history", conn), p)
        out.vanished = conn.execute(sql("retire_ledger", conn), p).rowcount
        out.reminders_cancelled = conn.execute(sql("reminders_cancel_stale", conn), p).rowcount
        out.messages_cancelled = conn.execute(sql("outbox_cancel_orphaned", conn), p).rowcount
        out.quarantine_closed = conn.execute(sql("retire_quarantine", conn), p).rowcount
        conn.execute(sql("watermark_delete", conn), p)
        conn.execute(sql("sync_run_finish", conn), {
            **p, "status": "success", "watermark_to": None, "rows_read": 0, "rows_valid": 0,
            "rows_rejected": 0, "rows_warned": 0, "inserted": 0, "updated": 0, "renewed": 0, "vanished": out.vanished,
            "quarantine_resolved": out.quarantine_closed, "counts_by_rule": None, "error": None})
        if not commit:
            txn.rollback()
    return out
