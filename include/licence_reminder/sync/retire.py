"""Taking a department out of the reminders (``cli department retire``), in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from licence_reminder import figures
from licence_reminder.config import local_now
from licence_reminder.db import sql

if TYPE_CHECKING:
    from sqlalchemy import Engine


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
        conn.execute(
            sql("sync_run_finish", conn),
            {
                **p,
                "status": "success",
                "watermark_to": None,
                "rows_read": 0,
                "rows_valid": 0,
                "rows_rejected": 0,
                "rows_warned": 0,
                "inserted": 0,
                "updated": 0,
                "renewed": 0,
                "vanished": out.vanished,
                "quarantine_resolved": out.quarantine_closed,
                "counts_by_rule": None,
                "error": None,
            },
        )
        if not commit:
            txn.rollback()
    if commit:  # its figures show it retired (kept, marked gone, reminders cancelled)
        figures.refresh_quietly(engine, [dept_code])
    return out
