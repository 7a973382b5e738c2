"""The summary's per-department figures, kept as the syncs and the dispatch change the data.

Counting the whole ledger database on every ``licence_reminder summary`` took 37-38 s at province
scale (docs/benchmarks.md). Instead each department's figures are *taken* — by queries scoped to
that department, in time proportional to it rather than to the ledger — when its data changes in
bulk, and the summary reads them (docs/adr/0503-summary-figures.md):

- the ledger part (licences by status, quarantine, warnings, and the valid licences per expiry
  date) at the end of the department's sync and of ``department retire``;
- the dispatch part (reminders, per channel too, SMS messages and their lengths per day written,
  gateway calls, call tasks) at the end of those and of the day's dispatch.

A part never taken is counted live by the summary, for that department only
(:func:`take_ledger`, :func:`take_dispatch` without writing). Between two takings the figures
stand as of when they were taken; the summary says when.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from licence_reminder.config import local_now
from licence_reminder.db import sql

log = logging.getLogger(__name__)

LEDGER = ("in_ledger", "revoked", "cancelled", "vanished", "in_quarantine", "with_warnings")
DISPATCH = (
    "calls_open",
    "calls_reached",
    "call_tasks",
    "reminders",
    "reminders_cancelled",
    "messages_sent",
    "messages_delivered",
    "messages_failed",
    "messages_pending",
    "gateway_calls",
)
CHANNEL_FIGURES = ("reminders", "reached", "waiting", "failed", "unreachable")
PARTS = ("ledger", "dispatch")


def as_date(value: Any) -> dt.date:
    """A date from the driver: MariaDB returns dates, SQLite their ISO text."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


@dataclass
class LedgerFigures:
    counts: dict[str, int]
    #: valid licences still in the source, per expiry date
    expiring: dict[dt.date, int]

    def expiring_between(self, first: dt.date, until: dt.date) -> int:
        return sum(n for day, n in self.expiring.items() if first <= day < until)


@dataclass
class Segments:
    """SMS messages written on a day with so many billed segments, and how many were accepted."""

    created_on: dt.date
    segments: int
    messages: int
    accepted: int


@dataclass
class DispatchFigures:
    counts: dict[str, int]
    channels: dict[str, dict[str, int]]
    segments: list[Segments] = field(default_factory=list)


def take_ledger(conn: Any, dept_code: str) -> LedgerFigures:
    """One department's ledger figures, counted now (reads only)."""
    p = {"dept_code": dept_code}
    counts = dict.fromkeys(LEDGER, 0)
    expiring: dict[dt.date, int] = {}
    for r in conn.execute(sql("figures_ledger", conn), p):
        n = int(r.licences)
        counts["in_ledger"] += n
        if not int(r.present):
            counts["vanished"] += n
        elif r.status in ("revoked", "cancelled"):
            counts[r.status] += n
        elif r.status == "valid":
            day = as_date(r.expiry_date)
            expiring[day] = expiring.get(day, 0) + n
    opened = conn.execute(sql("figures_open", conn), p).mappings().one()
    counts.update({k: int(opened[k] or 0) for k in ("in_quarantine", "with_warnings")})
    return LedgerFigures(counts=counts, expiring=expiring)


#: how the summary reads a reminder's or a message's status (summary_departments.sql,
#: summary_channels.sql, summary_segments.sql)
_CHANNEL_STATUS = {
    "sent": "reached",
    "delivered": "reached",
    "planned": "waiting",
    "queued": "waiting",
    "call_list": "failed",
    "failed": "failed",
    "unreachable": "unreachable",
}
_MESSAGE_STATUS = {
    "sent": ("messages_sent",),
    "delivered": ("messages_sent", "messages_delivered"),
    "call_list": ("messages_failed",),
    "failed": ("messages_failed",),
    "pending": ("messages_pending",),
    "sending": ("messages_pending",),
    "unknown": ("messages_pending",),
}


def take_dispatch(conn: Any, dept_code: str) -> DispatchFigures:
    """One department's dispatch figures, counted now (reads only)."""
    p = {"dept_code": dept_code}
    row = conn.execute(sql("figures_dispatch", conn), p).mappings().one()
    counts = dict.fromkeys(DISPATCH, 0)
    counts.update({k: int(row[k] or 0) for k in ("calls_open", "calls_reached", "call_tasks")})
    counts["gateway_calls"] = int(row["gateway_calls"] or 0)
    channels: dict[str, dict[str, int]] = {}
    for r in conn.execute(sql("figures_reminders", conn), p):
        n = int(r.reminders)
        if r.status == "cancelled":
            counts["reminders_cancelled"] += n
            continue
        counts["reminders"] += n
        ch = channels.setdefault(r.channel, dict.fromkeys(CHANNEL_FIGURES, 0))
        ch["reminders"] += n
        if r.status in _CHANNEL_STATUS:
            ch[_CHANNEL_STATUS[r.status]] += n
    lengths: dict[tuple[dt.date, int], Segments] = {}
    for r in conn.execute(sql("figures_messages", conn), p):
        n = int(r.messages)
        for k in _MESSAGE_STATUS.get(r.status, ()):
            counts[k] += n
        if r.status in ("superseded", "cancelled"):
            continue
        key = (as_date(r.created_on), int(r.segments))
        s = lengths.setdefault(key, Segments(key[0], key[1], 0, 0))
        s.messages += n
        s.accepted += n if int(r.accepted) else 0
    return DispatchFigures(counts=counts, channels=channels, segments=list(lengths.values()))


def refresh(
    engine: Any,
    dept_codes: Iterable[str],
    *,
    parts: Iterable[str] = PARTS,
    now: dt.datetime | None = None,
) -> dict[str, float]:
    """Take the departments' figures and write them, each department in a short transaction of
    its own (the counting reads lock nothing). Returns the seconds each department took.

    A department whose figures cannot be written is left to the summary's live count (its
    taken times cleared) and logged; the error is raised once every department was tried, so
    that the caller decides whether it matters (a sync's data is committed by then)."""
    import time

    parts = tuple(parts)
    unknown = set(parts) - set(PARTS)
    if unknown:
        raise ValueError(f"unknown figures part(s): {sorted(unknown)}")
    took: dict[str, float] = {}
    failed: Exception | None = None
    for code in dept_codes:
        started = time.perf_counter()
        try:
            try:
                _refresh_one(engine, code, parts, now)
            except Exception:  # noqa: BLE001 - once more: a deadlock victim, a lost connection
                _refresh_one(engine, code, parts, now)
        except Exception as exc:  # noqa: BLE001 - the others still get theirs
            failed = failed or exc
            log.error("department %s: summary figures not taken: %s", code, type(exc).__name__)
            _forget(engine, code)
        took[code] = time.perf_counter() - started
    if failed is not None:
        raise failed
    return took


def _refresh_one(engine: Any, code: str, parts: tuple[str, ...], now: dt.datetime | None) -> None:
    # taken when the counting starts: a change made while it counts is no older than the figures
    taken_at = (now or local_now()).replace(microsecond=0)
    ledger = dispatch = None
    if "ledger" in parts:
        # Read uncommitted: only the department's own sync and retire write its ledger,
        # quarantine and warnings rows, and they have committed when this runs. In a consistent
        # snapshot InnoDB fetches every row an index alone would answer for when a transaction
        # older than the rows' (another department's sync) is still open: 7-54 s instead of
        # about 1 s for a department of 1,000,000 licences (docs/adr/0503-summary-figures.md).
        with engine.connect().execution_options(isolation_level="READ UNCOMMITTED") as conn:
            ledger = take_ledger(conn, code)
            conn.rollback()
    if "dispatch" in parts:  # others (receipts, the send tasks) write these: a snapshot
        with engine.connect() as conn:
            dispatch = take_dispatch(conn, code)
            conn.rollback()
    p = {"dept_code": code, "taken_at": taken_at}
    with engine.begin() as conn:
        if ledger is not None and _put(conn, "figures_put_ledger", {**p, **ledger.counts}):
            conn.execute(sql("figures_expiry_clear", conn), p)
            rows = [
                {"dept_code": code, "expiry_date": day, "licences": n}
                for day, n in sorted(ledger.expiring.items())
            ]
            if rows:
                conn.execute(sql("figures_expiry_put", conn), rows)
        if dispatch is not None and _put(
            conn,
            "figures_put_dispatch",
            {**p, **dispatch.counts, "channels": json.dumps(dispatch.channels, sort_keys=True)},
        ):
            conn.execute(sql("figures_segments_clear", conn), p)
            rows = [
                {"dept_code": code, **s.__dict__}
                for s in sorted(dispatch.segments, key=lambda s: (s.created_on, s.segments))
            ]
            if rows:
                conn.execute(sql("figures_segments_put", conn), rows)


def _put(conn: Any, name: str, params: dict[str, Any]) -> bool:
    """UPDATE the department's row, made first if it has none; False if it holds figures taken
    later (which stay, with their histograms). Not INSERT IGNORE first: on an existing row that
    takes a shared lock, and a sync's and the dispatch's takings of the same department would
    then deadlock on their UPDATEs."""
    if conn.execute(sql(name, conn), params).rowcount:
        return True
    conn.execute(sql("figures_ensure", conn), params)
    return bool(conn.execute(sql(name, conn), params).rowcount)


def _forget(engine: Any, code: str) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(sql("figures_forget", conn), {"dept_code": code})
    except Exception as exc:  # noqa: BLE001 - logged; the figures stay as they were
        log.error("department %s: stale summary figures not cleared: %s", code, type(exc).__name__)


def dispatch_changed(conn: Any, dept_codes: Iterable[str]) -> None:
    """In the transaction that changes what the dispatch part counts after the dispatch took it
    (a prompt acknowledged, a call outcome recorded, a pushed delivery report applied): the
    summary counts those departments' part live until the next taking, rather than show it
    stale (one department's live count: 1.6 s at 10,000,000 licences)."""
    for code in sorted(set(dept_codes)):
        conn.execute(sql("figures_dispatch_stale", conn), {"dept_code": code})


def department_codes(engine: Any) -> list[str]:
    with engine.connect() as conn:
        return [r.code for r in conn.execute(sql("department_codes", conn))]


def refresh_quietly(
    engine: Any, dept_codes: Iterable[str], *, parts: Iterable[str] = PARTS
) -> None:
    """:func:`refresh` after a sync or a dispatch whose work is committed: a failure here is
    logged and left to the summary's live count, never the run's failure."""
    try:
        took = refresh(engine, dept_codes, parts=parts)
    except Exception as exc:  # noqa: BLE001
        log.error("summary figures not all taken: %s", type(exc).__name__)
        return
    if took:
        log.info(
            "summary figures (%s) taken for %d department(s) in %.2f s",
            "+".join(parts),
            len(took),
            sum(took.values()),
        )
