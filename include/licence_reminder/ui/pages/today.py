"""Today (operations): each department's last sync and today's reminders, and 30 days of sending."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from licence_reminder.errors import redact_values
from licence_reminder.ui import access, charts
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.web import Page, departments, forbid_unless, ledger, render

if TYPE_CHECKING:
    from sqlalchemy import Engine

PAGE = Page("today", "今日运行 Today", lambda v, codes: v.may(access.TODAY))
router = APIRouter()

#: a department whose last good sync is older than this is stale (syncs run daily)
STALE_AFTER = dt.timedelta(hours=26)
CHART_DAYS = 30
_RUN_TOTALS = {"rows", "valid", "rejected"}


@dataclass
class DepartmentDay:
    code: str
    name: str
    run: dict[str, Any] | None
    last_success_at: dt.datetime | None
    problem: str | None
    top_rules: list[tuple[str, int]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def dag_id(self) -> str:
        return f"sync_{self.code}"

    @property
    def dag_run_id(self) -> str | None:
        """The Airflow run id of the last sync (the ledger keeps ``<code>:<run id>``)."""
        if not self.run:
            return None
        prefix, _, rest = str(self.run["run_id"]).partition(":")
        return rest if prefix == self.code and rest else None


@dataclass
class Today:
    day: dt.date
    departments: list[DepartmentDay]
    chart_days: list[dt.date]
    daily: dict[str, list[int]]

    @property
    def totals(self) -> Counter[str]:
        out: Counter[str] = Counter()
        for d in self.departments:
            out.update(d.counts)
        return out


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value)[:19])


def _stamp(value: dt.datetime | dt.date) -> str:
    return (
        value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else value.isoformat()
    )


def today_figures(engine: Engine, now: dt.datetime, codes: dict[str, str]) -> Today:
    """The Today page's figures for the departments ``codes`` (code → name) at ``now``."""
    from licence_reminder.db import sql

    day = now.date()
    since = day - dt.timedelta(days=CHART_DAYS - 1)
    day_start = dt.datetime.combine(day, dt.time())
    with engine.connect() as conn:
        runs = {
            r["dept_code"]: dict(r)
            for r in conn.execute(sql("ui_today_last_sync", conn)).mappings()
        }
        counts: dict[str, Counter[str]] = defaultdict(Counter)
        for r in conn.execute(
            sql("ui_today_counts", conn),
            {
                "today": _stamp(day),
                "day_start": _stamp(day_start),
                "day_end": _stamp(day_start + dt.timedelta(days=1)),
            },
        ):
            counts[r.dept_code][r.measure] += int(r.n)
        daily: dict[str, dict[str, int]] = defaultdict(dict)
        for r in conn.execute(
            sql("ui_today_daily", conn), {"since": _stamp(dt.datetime.combine(since, dt.time()))}
        ):
            daily[r.measure][str(r.day)[:10]] = int(r.n)
    out = []
    for code, name in codes.items():
        run = runs.get(code)
        last_ok = _when(run["last_success_at"]) if run else None
        problem = None
        if run is None:
            problem = "从未同步 never synced"
        elif run["status"] == "failed":
            problem = "上次同步失败 last sync failed"
        elif run["mode"] == "retire":
            problem = None
        elif last_ok is None or now - last_ok > STALE_AFTER:
            problem = f"超过 {STALE_AFTER.total_seconds() / 3600:.0f} 小时未成功同步 no good sync for over a day"
        top: list[tuple[str, int]] = []
        if run and run.get("counts_by_rule"):
            rules = Counter(
                {
                    k: int(v)
                    for k, v in json.loads(run["counts_by_rule"]).items()
                    if k not in _RUN_TOTALS
                }
            )
            top = rules.most_common(3)
        if run and run.get("error"):
            run["error"] = redact_values(str(run["error"]))[:400]
        out.append(
            DepartmentDay(code, name, run, last_ok, problem, top, counts.get(code, Counter()))
        )
    days = [since + dt.timedelta(days=i) for i in range(CHART_DAYS)]
    series = {
        m: [daily[m].get(d.isoformat(), 0) for d in days]
        for m in ("sent", "delivered", "call_list")
    }
    return Today(day, out, days, series)


def age(now: dt.datetime, then: dt.datetime | None) -> str:
    if then is None:
        return "—"
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 60:
        return f"{max(minutes, 0)} 分钟前 min ago"
    if minutes < 48 * 60:
        return f"{minutes // 60} 小时前 h ago"
    return f"{minutes // 1440} 天前 days ago"


@router.get("/today", response_class=HTMLResponse)
def today_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    forbid_unless(viewer.may(access.TODAY))
    from licence_reminder.config import local_now

    engine = ledger()
    codes = departments(engine)
    now = local_now()
    figures = today_figures(engine, now, codes)
    chart = charts.line_chart(
        [d.strftime("%m-%d") for d in figures.chart_days],
        [
            charts.Series("已发送 sent", figures.daily["sent"]),
            charts.Series("已送达 delivered", figures.daily["delivered"]),
            charts.Series("转人工 call list", figures.daily["call_list"]),
        ],
        title=f"近 {CHART_DAYS} 天 Last {CHART_DAYS} days",
    )
    return render(
        request,
        "today.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        today=figures,
        chart=chart,
        now_time=now,
        age=age,
    )
