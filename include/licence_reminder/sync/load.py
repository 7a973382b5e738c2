"""Stage 4 of a sync — load and merge: the run's one transaction on the ledger database.

Every row the run writes goes into it — licences the ledger never held straight into the ledger,
changed ones, rejected rows, warnings and keys into the staging tables — and the merge at the end
brings the staging tables into the ledger set-based, clears them and commits. Nothing is visible
before that, and a failure anywhere rolls it all back (docs/adr/0004-one-transaction-sync.md).
The run's files are written in its department's private folder (:mod:`~licence_reminder.sync.workdir`).

Loading a batch keeps the server busy for seconds; it is done on a thread of its own while the
batches after it are read, validated and compared (the driver waits for the server outside the
GIL). At most :data:`BATCHES_AHEAD` batches wait for the loader, in memory and on disk.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from licence_reminder.config import local_now
from licence_reminder.db import sql
from licence_reminder.errors import classify_db_error
from licence_reminder.sync import rows
from licence_reminder.sync.flow import PublishStats, Sorted, StageStats, SyncPlan
from licence_reminder.sync.workdir import RunFolder

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

#: batches made ready (written to files) but not loaded yet
BATCHES_AHEAD = 2
#: the staging tables a run fills, cleared by its merge
STAGING_TABLES = (
    "staging_licence",
    "staging_rejection",
    "staging_key",
    "staging_warning",
    "staging_renewal",
)


def load(
    batches: Iterator[Sorted],
    ledger: Engine,
    plan: SyncPlan,
    *,
    applications: pd.DataFrame | None,
    stats: StageStats,
    today: dt.date,
    validated_context: str | None = None,
) -> tuple[PublishStats, dict[str, float]]:
    """Every batch into the run's transaction as it comes, then the renewal applications, then the
    merge and the commit; (what the merge did, timings: ``produce`` — reading, validating and
    comparing while the ledger loaded —, ``loading`` — what was left to load —, ``merge``).
    ``validated_context``: a full run's rules and catalogue (ledger_state.context_of), recorded
    with the commit as what every row of the department was validated under."""
    started = time.perf_counter()
    with Merge(ledger, plan) as merge:
        for batch in batches:
            merge.add(batch)
        if applications is not None:
            stats.renewal_applications = len(applications)
            merge.add_staged(
                [
                    rows.prepare(
                        "staging_renewal", applications, bulk=merge.bulk, folder=merge.folder
                    )
                ]
            )
        produced = time.perf_counter()
        published = merge.publish(stats, today=today, validated_context=validated_context)
    return published, {"produce": produced - started, **merge.timings}


class Merge:
    """The run's one transaction (see the module's docstring)."""

    def __init__(self, ledger: Engine, plan: SyncPlan) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        self.plan = plan
        self.constants = {
            "run_id": plan.run_id,
            "dept_code": plan.dept_code,
            "now": local_now(),
            "first_cycle": 1,  # a licence new to the ledger (ledger_insert_rows.sql)
        }
        self._files = RunFolder(plan.dept_code)
        self.folder = self._files.open()
        self.inserted = 0
        self.timings: dict[str, float] = {}
        self._permits = threading.BoundedSemaphore(BATCHES_AHEAD)
        self._error: BaseException | None = None
        self._done = False
        what = f"department {plan.dept_code}: loading the ledger database"
        try:
            self._conn = ledger.connect()
        except SQLAlchemyError as exc:
            self._files.close()
            raise classify_db_error(exc, what=what) from exc
        try:
            self._txn = self._conn.begin()
            self.bulk = rows.bulk_loads(self._conn)
        except BaseException as exc:
            self._conn.close()
            self._files.close()
            if isinstance(exc, SQLAlchemyError):
                raise classify_db_error(exc, what=what) from exc
            raise
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(target=self._load_queued, name="ledger-loader", daemon=True)
        if self.bulk:  # SQLite's connection stays on its own thread; its batches are loaded at once
            self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, batch: Sorted) -> None:
        """A batch's rows made ready for their tables and queued for the loader."""
        bulk, folder = self.bulk, self.folder
        self.add_staged(
            [
                rows.prepare("ledger", batch.new, bulk=bulk, folder=folder, texts=batch.new_texts),
                rows.prepare(
                    "staging_licence",
                    batch.changed,
                    bulk=bulk,
                    folder=folder,
                    texts=batch.changed_texts,
                ),
                rows.prepare("staging_rejection", batch.rejected_rows, bulk=bulk, folder=folder),
                rows.prepare("staging_key", batch.keys, bulk=bulk, folder=folder),
                rows.prepare("staging_warning", batch.warnings, bulk=bulk, folder=folder),
            ]
        )
        rows.give_back_memory()  # the batch's scratch, before the next one is read

    def add_staged(self, items: list[rows.Staged | None]) -> None:
        """Load ``items`` (in order) into the transaction, on the loader thread when there is one."""
        self._raise_failure()
        staged = [s for s in items if s is not None]
        if not self._thread.is_alive():
            self._load(staged)
            return
        self._permits.acquire()  # given back once loaded
        self._queue.put(staged)

    def _load(self, staged: list[rows.Staged]) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            for item in staged:
                rows.load(self._conn, item, self.constants)
                if item.table == "ledger":
                    self.inserted += item.rows
        except SQLAlchemyError as exc:
            raise classify_db_error(
                exc, what=f"department {self.plan.dept_code}: loading the ledger database"
            ) from exc
        finally:
            for item in staged:
                if item.path:
                    Path(item.path).unlink(missing_ok=True)

    def _load_queued(self) -> None:
        while (job := self._queue.get()) is not None:
            try:
                if self._error is None:
                    self._load(job)
            except BaseException as exc:  # noqa: BLE001 - raised in the run's own thread
                self._error = exc
            finally:
                self._permits.release()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _finish_loading(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise_failure()

    def publish(
        self, stats: StageStats, *, today: dt.date, validated_context: str | None = None
    ) -> PublishStats:
        """Merge the staging tables into the ledger, clear them and commit."""
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
            # the few staged licences the ledger never held (rows leaving quarantine)
            out.inserted = self.inserted + conn.execute(sql("ledger_insert_new", conn), p).rowcount
            if (
                stats.statuses_from_rejected
            ):  # its IN-subquery would cost MariaDB a pass per ledger row
                conn.execute(sql("history_status_from_rejected", conn), p)
                conn.execute(sql("ledger_status_from_rejected", conn), p)
            if stats.renewal_applications:
                applied = {**p, "today": today}  # an application without a date: the run's day
                conn.execute(sql("history_renewal_applied", conn), applied)
                out.applications = conn.execute(
                    sql("ledger_renewal_applied", conn), applied
                ).rowcount
            if plan.mode == "full" and stats.vanished:  # both scan the department's ledger rows
                conn.execute(sql("history_vanished", conn), p)
                out.vanished = conn.execute(sql("ledger_mark_vanished", conn), p).rowcount
            out.reminders_cancelled = conn.execute(sql("reminders_cancel_stale", conn), p).rowcount
            conn.execute(sql("outbox_cancel_orphaned", conn), p)
            conn.execute(sql("quarantine_upsert", conn), p)
            out.quarantined = (
                stats.rows_rejected
            )  # the upsert's rowcount counts an update twice in MySQL
            out.quarantine_resolved = conn.execute(
                sql("quarantine_resolve_fixed", conn), p
            ).rowcount
            if plan.mode == "full":
                out.quarantine_resolved += conn.execute(
                    sql("quarantine_resolve_gone", conn), p
                ).rowcount
            conn.execute(sql("warning_seen", conn), p)
            out.warnings_opened = conn.execute(sql("warning_open", conn), p).rowcount
            out.warnings_resolved = conn.execute(
                sql("warning_resolve", conn),
                {
                    **p,
                    "full": int(plan.mode == "full"),
                    "duplicates_checked": int(stats.duplicates_checked),
                },
            ).rowcount
            self._watermark(conn, p, stats)
            if validated_context is not None:
                conn.execute(sql("department_validated", conn), {**p, "context": validated_context})
            conn.execute(
                sql("sync_run_finish", conn),
                {
                    **p,
                    "status": "success",
                    "watermark_to": stats.watermark_to,
                    "rows_read": stats.rows_read,
                    "rows_valid": stats.rows_valid,
                    "rows_rejected": stats.rows_rejected,
                    "rows_warned": stats.rows_warned,
                    "inserted": out.inserted,
                    "updated": out.updated,
                    "renewed": out.renewed,
                    "vanished": out.vanished,
                    "quarantine_resolved": out.quarantine_resolved,
                    "counts_by_rule": json.dumps(stats.counts_by_rule, ensure_ascii=False),
                    "error": None,
                },
            )
            for table in STAGING_TABLES:
                conn.execute(sql(f"delete_{table}", conn), p)
            self._txn.commit()
        except SQLAlchemyError as exc:
            raise classify_db_error(
                exc, what=f"department {plan.dept_code}: merge into the ledger"
            ) from exc
        self._done = True
        self.timings = {"loading": merging - waited, "merge": time.perf_counter() - merging}
        return out

    @staticmethod
    def _watermark(conn: Any, p: dict[str, Any], stats: StageStats) -> None:
        read_at = dt.datetime.fromisoformat(stats.source_read_at) if stats.source_read_at else None
        if stats.watermark_to:
            conn.execute(
                sql("watermark_upsert", conn),
                {
                    **p,
                    "watermark": dt.datetime.fromisoformat(stats.watermark_to),
                    "source_read_at": read_at,
                },
            )
        elif read_at:
            conn.execute(sql("watermark_read_at", conn), {**p, "source_read_at": read_at})

    def close(self) -> None:
        """Roll back what was not published, and drop the run's files."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            if self._thread.is_alive():
                self._error = self._error or RuntimeError(
                    "the run stopped"
                )  # the rest is not loaded
                self._queue.put(None)
                self._thread.join()
            if not self._done and self._txn.is_active:
                self._txn.rollback()
        except SQLAlchemyError as exc:
            # only ever while the run's own error propagates (a ledger lost, mostly): that error is
            # the one to tell, and the server rolls back a transaction whose connection is gone
            log.debug("department %s: rollback: %s", self.plan.dept_code, type(exc).__name__)
        finally:
            self._conn.close()
            self._files.close()
