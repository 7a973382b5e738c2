"""Quarterly review and annual assessment (department reviewers, auditors, operations).

Per department and quarter: what the syncs changed in the ledger, catalogue entries changed, the
data-quality trend (rejected rows by rule per run), reminder coverage of the licences expiring in
the quarter and the renewed-before-expiry rate; the department's annual figures from
``v_assessment_yearly``. Printable, and as an XLSX pack the department signs off
(每季度梳理一次新增提醒事项台账).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, Response

from licence_reminder.ui import access, charts
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.queries import stamp, templated, xlsx_bytes
from licence_reminder.ui.web import Page, departments, forbid_unless, ledger, render, today_local

if TYPE_CHECKING:
    from sqlalchemy import Engine

PAGE = Page("review", "季度梳理 Quarterly review", lambda v, codes: v.may_any(access.REVIEW, codes))
router = APIRouter()

#: a dialect's way to read a value out of ledger_history's JSON columns
_JSON = {
    "mysql": "JSON_VALUE({col}, '$.{key}')",
    "sqlite": "json_extract({col}, '$.{key}')",
    "postgresql": "(({col})::json ->> '{key}')",
}
_RUN_TOTALS = {"rows", "valid", "rejected"}
TOP_RULES = 6


@dataclass(frozen=True)
class Quarter:
    year: int
    q: int

    @classmethod
    def parse(cls, text: str | None, today: dt.date) -> Quarter:
        if not text:
            return cls.of(today)
        m = re.fullmatch(r"(\d{4})-?Q([1-4])", text.strip().upper())
        if not m:
            raise ValueError(text)
        return cls(int(m.group(1)), int(m.group(2)))

    @classmethod
    def of(cls, day: dt.date) -> Quarter:
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.q - 2, 1)

    @property
    def last_day(self) -> dt.date:
        return self.next().first_day - dt.timedelta(days=1)

    def next(self) -> Quarter:
        return Quarter(self.year + (self.q == 4), self.q % 4 + 1)

    def previous(self) -> Quarter:
        return Quarter(self.year - (self.q == 1), (self.q - 2) % 4 + 1)

    def __str__(self) -> str:
        return f"{self.year}Q{self.q}"


@dataclass
class Review:
    dept: str
    dept_name: str
    quarter: Quarter
    runs: list[dict[str, Any]]
    changes: dict[str, int]
    catalogue: list[dict[str, Any]]
    coverage: dict[str, int]
    yearly: list[dict[str, Any]]
    rules: list[str]

    @property
    def renewed_before_rate(self) -> float | None:
        expired = self.coverage.get("expired_to_date") or 0
        return (self.coverage.get("renewed_before_expiry") or 0) / expired if expired else None

    def rule_counts(self, run: dict[str, Any]) -> list[int]:
        return [run["rules"].get(rule, 0) for rule in self.rules]


def _json(dialect: str, col: str, key: str) -> str:
    return _JSON[dialect].format(col=col, key=key)


def annual_figures(engine: Engine, dept: str) -> list[dict[str, Any]]:
    """The department's ``v_assessment_yearly`` figures, by year of expiry (the view's numbers,
    read the department's way: ``ui_annual_assessment.sql``). It reads every licence cycle the
    department has: the annual page shows it apart from the quarter's."""
    with engine.connect() as conn:
        rows = conn.execute(templated("ui_annual_assessment", conn), {"dept": dept}).mappings()
        return [{k: str(v) if k == "year" else int(v or 0) for k, v in r.items()} for r in rows]


def review_figures(
    engine: Engine,
    dept: str,
    dept_name: str,
    quarter: Quarter,
    today: dt.date,
    *,
    with_annual: bool = False,
) -> Review:
    from licence_reminder.db import dialect_of, sql

    dialect = dialect_of(engine).name
    bounds = {
        "dept": dept,
        "day_start": stamp(dt.datetime.combine(quarter.first_day, dt.time())),
        "day_end": stamp(dt.datetime.combine(quarter.next().first_day, dt.time())),
    }
    with engine.connect() as conn:
        runs = [dict(r) for r in conn.execute(sql("ui_review_runs", conn), bounds).mappings()]
        status_changes = {
            r.new_status: int(r.n)
            for r in conn.execute(
                templated(
                    "ui_review_status_changes",
                    conn,
                    new_status=_json(dialect, "h.new_values", "status"),
                    old_status=_json(dialect, "h.old_values", "status"),
                ),
                bounds,
            )
        }
        catalogue = [
            dict(r) for r in conn.execute(sql("ui_review_catalogue", conn), bounds).mappings()
        ]
        coverage = dict(
            conn.execute(
                templated(
                    "ui_review_coverage",
                    conn,
                    old_expiry=_json(dialect, "h.old_values", "expiry_date"),
                ),
                {
                    "dept": dept,
                    "first_day": stamp(quarter.first_day),
                    "last_day": stamp(quarter.last_day),
                    "today": stamp(today),
                },
            )
            .mappings()
            .one()
        )
    yearly = annual_figures(engine, dept) if with_annual else []
    totals: Counter[str] = Counter()
    for run in runs:
        run["rules"] = {
            k: int(v)
            for k, v in json.loads(run["counts_by_rule"] or "{}").items()
            if k not in _RUN_TOTALS
        }
        totals.update(run["rules"])
    done = [r for r in runs if r["status"] == "success"]
    changes = {
        "runs": len(runs),
        "failed_runs": sum(r["status"] == "failed" for r in runs),
        "added": sum(r["inserted"] for r in done),
        "updated": sum(r["updated"] for r in done),
        "renewed": sum(r["renewed"] for r in done),
        "vanished": sum(r["vanished"] for r in done),
        "revoked": status_changes.get("revoked", 0),
        "cancelled": status_changes.get("cancelled", 0),
        "rows_read": sum(r["rows_read"] for r in runs),
        "rejected": sum(r["rows_rejected"] for r in runs),
    }
    return Review(
        dept,
        dept_name,
        quarter,
        runs,
        changes,
        catalogue,
        {k: int(v or 0) for k, v in coverage.items()},
        yearly,
        [rule for rule, _ in totals.most_common(TOP_RULES)],
    )


def review_charts(review: Review) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if review.runs and review.rules:
        out["dq"] = charts.bar_chart(
            [str(r["started_at"])[5:10] for r in review.runs],
            [
                charts.Series(rule, [r["rules"].get(rule, 0) for r in review.runs])
                for rule in review.rules
            ],
            title="每次同步按规则拒收行数 Rejected rows by rule per run",
            stacked=True,
        )
    c = review.coverage
    out["coverage"] = (
        None
        if not c
        else charts.bar_chart(
            [
                "到期证照 cycles",
                "已提醒 reminded",
                "已送达 delivered",
                "转人工 call list",
                "到期前续期 renewed before",
            ],
            [
                charts.Series(
                    str(review.quarter),
                    [
                        c.get("cycles", 0),
                        c.get("reminded", 0),
                        c.get("delivered", 0),
                        c.get("on_call_list", 0),
                        c.get("renewed_before_expiry", 0),
                    ],
                )
            ],
            title="提醒覆盖 Reminder coverage",
        )
    )
    if review.yearly:
        y = review.yearly
        out["yearly"] = charts.bar_chart(
            [str(r["year"]) for r in y],
            [
                charts.Series("证照周期 cycles", [r["licence_cycles"] for r in y]),
                charts.Series("已提醒 reminded", [r["reminded"] for r in y]),
                charts.Series("已送达 delivered", [r["reminder_delivered"] for r in y]),
                charts.Series("到期前续期 renewed before", [r["renewed_before_expiry"] for r in y]),
                charts.Series("逾期未续 lapsed", [r["lapsed"] for r in y]),
                charts.Series(
                    "逾期且未提醒 lapsed unreminded", [r["lapsed_unreminded"] for r in y]
                ),
            ],
            title="年度考核 Annual assessment (v_assessment_yearly)",
        )
    return out


def review_pack(review: Review, reviewer: str) -> bytes:
    """The XLSX pack a department signs off: one sheet per part of the review."""
    c, ch = review.coverage, review.changes
    title = f"{review.dept_name}（{review.dept}）证照到期提醒季度梳理 {review.quarter}"
    rate = review.renewed_before_rate
    summary = [
        [
            "季度 Quarter",
            str(review.quarter),
            f"{review.quarter.first_day} – {review.quarter.last_day}",
        ],
        ["同步次数 Sync runs", ch["runs"], f"失败 failed {ch['failed_runs']}"],
        ["新增证照 Licences added", ch["added"], ""],
        ["续期 Renewed", ch["renewed"], ""],
        ["吊销 Revoked", ch["revoked"], ""],
        ["注销 Cancelled", ch["cancelled"], ""],
        ["源系统中已无 Vanished from the source", ch["vanished"], ""],
        ["目录变更 Catalogue entries changed", len(review.catalogue), ""],
        ["读取行数 Rows read", ch["rows_read"], ""],
        ["拒收行数 Rows rejected", ch["rejected"], ""],
        ["本季度到期证照周期 Cycles expiring", c.get("cycles", 0), ""],
        ["已提醒 Reminded", c.get("reminded", 0), ""],
        ["已送达 Delivered", c.get("delivered", 0), ""],
        [
            "转人工联系 On the call list",
            c.get("on_call_list", 0),
            "电话联系结果待呼叫任务上线 phone outcomes: call tasks",
        ],
        [
            "到期前续期 Renewed before expiry",
            c.get("renewed_before_expiry", 0),
            "" if rate is None else f"{rate:.1%} of expired",
        ],
        ["逾期未续 Lapsed", c.get("lapsed", 0), ""],
        [],
        ["导出人 Exported by", reviewer, str(today_local())],
        ["部门审核人签字 Reviewed by (signature)", "", ""],
        ["日期 Date", "", ""],
    ]
    runs = [
        [
            r["run_no"],
            r["run_id"],
            r["mode"],
            r["status"],
            r["started_at"],
            r["finished_at"],
            r["rows_read"],
            r["rows_rejected"],
            r["inserted"],
            r["updated"],
            r["renewed"],
            r["vanished"],
        ]
        for r in review.runs
    ]
    dq = [
        [r["run_no"], r["started_at"], rule, n]
        for r in review.runs
        for rule, n in sorted(r["rules"].items())
    ]
    catalogue = [
        [
            e["licence_name"],
            e["approval_item"],
            e["first_lead_days"],
            e["second_lead_days"],
            e["updated_at"],
        ]
        for e in review.catalogue
    ]
    yearly = [
        [
            r["year"],
            r["licence_cycles"],
            r["expired_to_date"],
            r["reminded"],
            r["reminder_delivered"],
            r["renewed_before_expiry"],
            r["renewed_after_expiry"],
            r["applied_before_expiry"],
            r["lapsed"],
            r["lapsed_unreminded"],
        ]
        for r in review.yearly
    ]
    return xlsx_bytes(
        [
            ("概况 Summary", title, ("项目 Item", "数值 Value", "说明 Note"), summary),
            (
                "同步 Runs",
                title,
                (
                    "序号 run no",
                    "运行 run",
                    "方式 mode",
                    "状态 status",
                    "开始 started",
                    "结束 finished",
                    "读取 read",
                    "拒收 rejected",
                    "新增 inserted",
                    "更新 updated",
                    "续期 renewed",
                    "消失 vanished",
                ),
                runs,
            ),
            (
                "数据质量 Data quality",
                title,
                ("序号 run no", "开始 started", "规则 rule", "拒收 rows"),
                dq,
            ),
            (
                "目录变更 Catalogue",
                title,
                (
                    "证照名称 licence",
                    "审批事项 approval item",
                    "首次提醒 first lead",
                    "二次提醒 second lead",
                    "更新 updated",
                ),
                catalogue,
            ),
            (
                "年度考核 Annual",
                title,
                (
                    "年度 year",
                    "证照周期 cycles",
                    "已到期 expired",
                    "已提醒 reminded",
                    "已送达 delivered",
                    "到期前续期 renewed before",
                    "到期后续期 renewed after",
                    "到期前申请 applied before",
                    "逾期未续 lapsed",
                    "逾期且未提醒 lapsed unreminded",
                ),
                yearly,
            ),
        ]
    )


# ----------------------------------------------------------------------------------- routes
def _resolve(
    request: Request, viewer: access.Viewer
) -> tuple[dict[str, str], list[str], str, Quarter]:
    codes = departments(ledger())
    mine = viewer.departments(access.REVIEW, codes)
    forbid_unless(bool(mine))
    dept = request.query_params.get("dept") or mine[0]
    forbid_unless(dept in mine)
    try:
        quarter = Quarter.parse(request.query_params.get("quarter"), today_local())
    except ValueError:
        raise HTTPException(status_code=400, detail="quarter is YYYYQn, e.g. 2026Q4") from None
    return codes, mine, dept, quarter


def _recent_quarters() -> list[Quarter]:
    recent = [Quarter.of(today_local())]
    for _ in range(7):
        recent.append(recent[-1].previous())
    return recent


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes, mine, dept, quarter = _resolve(request, viewer)
    review = review_figures(ledger(), dept, codes[dept], quarter, today_local())
    return render(
        request,
        "review.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        r=review,
        charts=review_charts(review),
        mine=[(c, codes[c]) for c in mine],
        quarters=_recent_quarters(),
        annual=False,
    )


@router.get("/review/annual", response_class=HTMLResponse)
def annual_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes, mine, dept, quarter = _resolve(request, viewer)
    review = Review(dept, codes[dept], quarter, [], {}, [], {}, annual_figures(ledger(), dept), [])
    return render(
        request,
        "review.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        r=review,
        charts=review_charts(review),
        mine=[(c, codes[c]) for c in mine],
        quarters=_recent_quarters(),
        annual=True,
    )


@router.get("/review/pack.xlsx")
def review_pack_download(request: Request, viewer: ViewerDep) -> Response:
    codes, _, dept, quarter = _resolve(request, viewer)
    review = review_figures(ledger(), dept, codes[dept], quarter, today_local(), with_annual=True)
    return Response(
        review_pack(review, viewer.name),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": f'attachment; filename="review_{dept}_{quarter}.xlsx"'},
    )
