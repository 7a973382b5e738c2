"""A department's extract split by ranges of ``source.sync.split_column`` over worker processes.

Reading and validating a chunk is Python's work: one process keeps one core busy. Each worker
extracts and validates one range and makes its chunks ready to load (``staging.prepare``: files
in the run's folder); the parent loads them into the run's one transaction (``sync.Merge``) as
they come, and merges at the end. The result is the same as one process reading the extract in
split-column order:

1. each worker reads only the licence numbers of its range and sends them to the parent, which
   works out the row number each range starts at and which of its numbers an earlier range had;
2. each worker validates its range with those (a number seen earlier is a duplicate), sends its
   chunks, and reports its counts.

Workers are forked (nothing to re-import; the task's Airflow plumbing is not used in them) and
replace the inherited database pools before any query, so no connection is shared with the
parent; they only read the ledger. Any worker's failure stops the others and fails the run,
which rolls the transaction back.
"""

from __future__ import annotations

import collections
import datetime as dt
import decimal
import itertools
import multiprocessing
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection as Pipe
from multiprocessing.connection import wait
from typing import TYPE_CHECKING, Any

from licence_reminder.db import dialect_of
from licence_reminder.duplicates import scan
from licence_reminder.errors import PermanentError, TransientError, redact_values
from licence_reminder.extract import (
    SplitRange,
    extract_query,
    query_one,
    query_params,
    stream_chunks,
    stream_rows,
)
from licence_reminder.registry import Catalogue, Department
from licence_reminder.staging import give_back_memory

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from pathlib import Path

    from licence_reminder.staging import LedgerIndex
    from licence_reminder.sync import Merge, StageStats, SyncPlan


@dataclass
class Totals:
    """What the data-quality report reads from a validator: the counts of every worker together."""

    totals: collections.Counter[str]


def extract_in_parallel(merge: Merge, index: LedgerIndex | None, ledger: Engine, source: Engine,
                        dept: Department, catalogue: Catalogue, plan: SyncPlan, *,
                        today: dt.date) -> tuple[StageStats, Any]:
    import pyarrow as pa
    import pyarrow.compute as pc

    from licence_reminder import sync
    from licence_reminder.validation.suite import gx_batch_definition

    ranges = split_ranges(source, dept, plan.read_after, dept.source.sync.workers)
    # imported and set up once here: forked workers share it instead of each importing its own
    gx_batch_definition()
    stats = sync.StageStats()
    totals: collections.Counter[str] = collections.Counter()
    kept: list[Any] = []
    warned: list[dict[str, Any]] = []
    max_wm: dt.datetime | None = None
    read: list[pa.Array] = []  # every range's licence numbers (normalised, none missing)
    if ranges:
        pipes, procs = _start(ranges, ledger, source, dept, catalogue, plan, today,
                              merge.bulk, merge.folder, merge.permits, index)
        try:
            numbers = _gather(pipes, procs)
            # decided once here for every worker, from the whole source (a full run's ranges are
            # the whole extract; a run reading changed rows reads every number once more)
            duplicates = None
            if plan.mode == "full":
                duplicates = scan(source, dept, numbers=_all([n.drop_null() for n in numbers]))
            elif any(len(n) for n in numbers):
                duplicates = scan(source, dept)
            if duplicates is not None:
                stats.duplicates_checked = True
                merge.add([sync.duplicate_warnings(duplicates, bulk=merge.bulk, folder=merge.folder)])
            first_row = 0
            for pipe, in_range in zip(pipes, numbers, strict=True):
                present = in_range.drop_null()
                earlier: set[str] = set()  # of this range's numbers, those an earlier range had
                if read:
                    hits = pc.is_in(present, value_set=pa.concat_arrays(read))
                    earlier = set(present.filter(hits).to_pylist())
                pipe.send((first_row, earlier, duplicates))
                read.append(present)
                first_row += len(in_range)
            if index is not None:  # while the workers validate: the ledger side needs only the numbers
                stats.vanished, keys = sync.stage_vanished(
                    plan, index, _all(read), max_share=dept.source.sync.max_vanished_share,
                    bulk=merge.bulk, folder=merge.folder)
                merge.add([keys])
            for part, wm, rejections, warnings, counts in _results(pipes, procs, merge):
                for name in ("rows_read", "rows_valid", "rows_rejected", "staged", "unchanged",
                             "statuses_from_rejected", "rows_warned"):
                    setattr(stats, name, getattr(stats, name) + getattr(part, name))
                totals.update(counts)
                kept.extend(rejections[:sync.REJECTIONS_KEPT - len(kept)])
                warned.extend(warnings[:sync.REJECTIONS_KEPT - len(warned)])
                if wm is not None and (max_wm is None or wm > max_wm):
                    max_wm = wm
        finally:
            _stop(procs)
    if index is not None and not ranges:  # an empty extract: every active licence vanished
        stats.vanished, keys = sync.stage_vanished(plan, index, _all(read),
                                                   max_share=dept.source.sync.max_vanished_share,
                                                   bulk=merge.bulk, folder=merge.folder)
        merge.add([keys])
    stats.watermark_to = max_wm.isoformat(sep=" ") if max_wm else None
    stats.counts_by_rule = dict(totals)
    return stats, (Totals(totals), kept, warned)


def _all(parts: list[Any]) -> Any:
    import pyarrow as pa

    return pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())


def split_ranges(source: Engine, dept: Department, watermark: dt.datetime | None,
                 workers: int) -> list[SplitRange]:
    """Up to ``workers`` ranges of the split column, each with about as many of the extract's rows:
    cut at the column's row quantiles, read through its index, so that a key with gaps or bursts
    (merged systems, ids reserved in blocks) still shares the work evenly. The first range is open
    below and takes the rows whose key is NULL, the last is open above: every row the extract
    returns, even one added while the run goes on, falls in exactly one range."""
    dialect = dialect_of(source)
    column = str(dept.source.sync.split_column)
    quoted = dialect.quote(column)
    inner = extract_query(dept, dialect, incremental=watermark is not None, columns=(column,))
    params = query_params(watermark, None)

    try:
        total, keyed, lowest = query_one(
            source, dept, f"SELECT COUNT(*), COUNT(v.{quoted}), MIN(v.{quoted}) FROM ({inner}) v", params)
    except PermanentError as exc:
        if column not in str(exc):
            raise
        raise PermanentError(f"department {dept.code}: field 'source.sync.split_column': the server "
                             f"finds no column {column!r} in the extract; alias the key in the SQL "
                             f"(e.g. x.id AS {column}) ({exc})") from exc
    if not total:
        return []
    if not keyed:
        return [(None, None)]
    lowest = _integer(dept, lowest)
    cuts = set()
    for k in range(1, workers):
        (value,) = query_one(source, dept, f"SELECT v.{quoted} FROM ({inner}) v WHERE v.{quoted} IS NOT "
                             f"NULL ORDER BY v.{quoted} LIMIT 1 OFFSET :split_offset",
                             {**params, "split_offset": keyed * k // workers})
        cuts.add(_integer(dept, value))
    bounds: list[int | None] = [None, *sorted(c for c in cuts if c > lowest), None]
    return list(itertools.pairwise(bounds))


def _integer(dept: Department, value: Any) -> int:
    """A split-column value as an int, or the department's configuration error (never the value:
    the column might hold an ID number)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, decimal.Decimal) and value == value.to_integral_value():
        return int(value)
    raise PermanentError(
        f"department {dept.code}: field 'source.sync.split_column': column "
        f"{dept.source.sync.split_column!r} must hold integers, such as the register's primary key, "
        f"but the extract returns {type(value).__name__} values; name an integer column or remove "
        f"split_column")


def _stop(procs: list[Any]) -> None:
    """After a failure the other workers stop at once (one may be waiting for a chunk's turn
    that no longer comes); a worker that outlives a few seconds of SIGTERM is killed."""
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
    for proc in procs:
        proc.join(5)
        if proc.is_alive():
            proc.kill()
            proc.join()


def _start(ranges: list[SplitRange], *args: Any) -> tuple[list[Pipe], list[Any]]:
    import gc

    ctx = multiprocessing.get_context("fork")
    pipes, procs = [], []
    # The workers share the parent's memory (Great Expectations, pandas, the ledger index) until
    # they write to it; Python's collector writes to every object it visits. Frozen, the objects
    # that exist now are never visited again, so those pages stay shared (60 MiB a worker here).
    gc.collect()
    give_back_memory()  # what the parent freed: not copied into every worker's share
    gc.freeze()
    try:
        for split_range in ranges:
            parent_end, child_end = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(child_end, split_range, *args))
            proc.start()
            child_end.close()
            pipes.append(parent_end)
            procs.append(proc)
    finally:
        gc.unfreeze()
    return pipes, procs


def _receive(pipes: list[Pipe], procs: list[Any], pending: set[int]) -> Iterator[tuple[int, str, Any]]:
    """(worker, kind, payload) of messages from the workers in ``pending``, as they come; a
    worker's failure raises."""
    while pending:
        for pipe in wait([pipes[k] for k in sorted(pending)]):
            k = pipes.index(pipe)  # type: ignore[arg-type]
            try:
                kind, payload = pipe.recv()
            except EOFError:
                procs[k].join()
                raise TransientError(
                    f"sync worker {k + 1} of {len(pipes)} ended without a result "
                    f"(exit code {procs[k].exitcode})") from None
            if kind == "error":
                error_class, message = payload
                raise error_class(f"sync worker {k + 1} of {len(pipes)}: {message}")
            yield k, kind, payload


def _gather(pipes: list[Pipe], procs: list[Any]) -> list[Any]:
    """One message from every worker, in range order; the first failure raises."""
    got: dict[int, Any] = {}
    pending = set(range(len(pipes)))
    for k, _kind, payload in _receive(pipes, procs, pending):
        got[k] = payload
        pending.discard(k)
    return [got[k] for k in range(len(pipes))]


def _results(pipes: list[Pipe], procs: list[Any], merge: Merge) -> list[Any]:
    """Every worker's chunks, loaded as they come, then its result, in range order."""
    got: dict[int, Any] = {}
    pending = set(range(len(pipes)))
    for k, kind, payload in _receive(pipes, procs, pending):
        if kind == "chunk":
            merge.add(payload, done=merge.permits.release)
            continue
        got[k] = payload
        pending.discard(k)
    return [got[k] for k in range(len(pipes))]


def _worker(pipe: Pipe, split_range: SplitRange, ledger: Engine, source: Engine,
            dept: Department, catalogue: Catalogue, plan: SyncPlan, today: dt.date,
            bulk: bool, folder: Path, permits: Any, index: LedgerIndex | None) -> None:
    import os
    import signal

    from licence_reminder import sync

    # the task's own handlers (Airflow's) came with the fork: SIGTERM from the parent must end a worker
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    parent = os.getppid()
    try:
        # fresh pools: the inherited ones hold the parent's sockets (close=False leaves them be)
        ledger.dispose(close=False)
        source.dispose(close=False)
        pipe.send(("numbers", _numbers_in_range(source, dept, plan, split_range)))
        stager: sync.ChunkStager | None = None

        def validating() -> sync.ChunkStager:  # the parent's answer is awaited only once a chunk is read
            nonlocal stager
            if stager is None:
                first_row, seen_before, duplicates = pipe.recv()
                stager = sync.ChunkStager(ledger, dept, catalogue, plan, today=today, bulk=bulk,
                                          folder=folder, first_row=first_row, seen_before=seen_before,
                                          index=index, duplicates=duplicates)
            return stager

        def hand_over(ready: list[list[Any]]) -> None:
            for items in ready:
                while not permits.acquire(timeout=1):  # given back by the parent once it is loaded
                    if os.getppid() != parent:  # the parent is gone (killed): nobody will
                        raise TransientError("the sync's parent process ended")
                pipe.send(("chunk", items))

        for chunk in stream_chunks(source, dept, watermark=plan.read_after, split_range=split_range):
            hand_over(validating().add(chunk))
        done = validating()
        hand_over(done.flush())
        pipe.send(("done", (done.stats, done.max_wm, done.rejections_kept, done.warnings_kept,
                            done.validator.totals)))
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which fails the run
        error_class = exc.__class__ if isinstance(exc, (PermanentError, TransientError)) else RuntimeError
        pipe.send(("error", (error_class, redact_values(f"{type(exc).__name__}: {exc}"))))
    finally:
        pipe.close()


def _numbers_in_range(source: Engine, dept: Department, plan: SyncPlan, split_range: SplitRange) -> Any:
    """The range's licence numbers as the validator reads them, one per row (null if missing),
    as one Arrow array: compact to send, and compared in Arrow by the parent."""
    import pyarrow as pa

    from licence_reminder.validation.suite import normalised_text

    column = dept.source.columns.get("licence_no", "licence_no")
    query = extract_query(dept, dialect_of(source), incremental=plan.read_after is not None,
                          split_range=split_range, columns=(column,))
    params = query_params(plan.read_after, split_range)
    parts = [pa.array(normalised_text(block.frame().iloc[:, 0]), type=pa.string())
             for block in stream_rows(source, dept, query, params, dept.source.sync.chunk_size)]
    return pa.concat_arrays(parts) if parts else pa.array([], type=pa.string())
