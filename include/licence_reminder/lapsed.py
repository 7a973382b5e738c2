"""The lapsed report: every licence cycle that expired without a warning that reached the holder,
with the true reason — from the ledger, from quarantine — and the departments whose syncs have
been failing, whose sources may hold licences the ledger does not know."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.db import sql

if TYPE_CHECKING:
    from sqlalchemy import Engine

#: a department whose last good sync is older than this has its data called stale
STALE_AFTER = dt.timedelta(hours=26)


@dataclass
class LapsedReport:
    licences: list[dict[str, Any]] = field(default_factory=list)
    #: departments whose data is stale: code, name, last success, failed runs since
    stale_departments: list[dict[str, Any]] = field(default_factory=list)


def report(
    engine: Engine,
    *,
    dept_code: str | None = None,
    since: dt.date | None = None,
    limit: int = 10_000,
    now: dt.datetime | None = None,
) -> LapsedReport:
    now = now or local_now()
    out = LapsedReport()
    with engine.connect() as conn:
        for r in conn.execute(
            sql("lapsed_list", conn), {"dept_code": dept_code, "since": since, "limit": limit}
        ).mappings():
            out.licences.append({**dict(r), "expiry_date": str(r["expiry_date"])[:10]})
        for d in conn.execute(sql("departments_sync_health", conn)).mappings():
            if (dept_code and d["code"] != dept_code) or d["last_mode"] == "retire":
                continue
            last = d["last_success"]
            last = dt.datetime.fromisoformat(str(last)[:19]) if last else None
            if last is None or now - last > STALE_AFTER:
                out.stale_departments.append(
                    {
                        "code": d["code"],
                        "name": d["name"],
                        "last_success": last and last.isoformat(sep=" "),
                        "failed_runs_since": int(d["failed_since"] or 0),
                    }
                )
    return out
