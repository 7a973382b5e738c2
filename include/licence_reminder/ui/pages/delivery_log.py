"""Delivery log (auditors): search the messages, each one's history, exports, and the licences
that lapsed without a reminder.

The search goes by POST: a licence number can be an ID number (driving licences) and a mobile is
personal, and neither may appear in a URL, a browser history or an access log. The form's own
script masks a full mobile before it is sent; the server masks it again.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from licence_reminder.masking import mask_licence_no, mask_mobile
from licence_reminder.ui import access
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.queries import as_date, csv_bytes, scrub, stamp, templated, xlsx_bytes
from licence_reminder.ui.web import Page, departments, forbid_unless, ledger, render, today_local

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Engine

PAGE = Page("delivery-log", "发送记录 Delivery log", lambda v, codes: v.may(access.DELIVERY_LOG))
router = APIRouter()

PAGE_SIZE = 50
EXPORT_CAP = 200_000
LAPSED_SHOWN = 500
DEFAULT_DAYS = 7

MESSAGE_STATUSES = {
    "pending": "待发送 pending",
    "sending": "发送中 sending",
    "unknown": "结果未知 in doubt",
    "sent": "已发送 sent",
    "delivered": "已送达 delivered",
    "call_list": "转人工 call list",
    "failed": "失败 failed",
    "cancelled": "已取消 cancelled",
    "superseded": "已重写 superseded",
}
SEARCH_HEADERS = (
    "消息编号 message",
    "部门 department",
    "生成时间 written",
    "发送时间 sent",
    "状态 status",
    "手机号（脱敏）mobile (masked)",
    "证照编号 licences",
    "模板 template",
    "网关 gateway",
    "尝试次数 attempts",
    "最后代码 last code",
    "服务商编号 provider id",
    "短信内容SHA-256 text hash",
)
LAPSED_HEADERS = (
    "部门 department",
    "证照编号 licence",
    "证照名称 licence name",
    "期满日期 expiry",
    "进入台账 entered ledger",
    "原因 reason",
)


class SearchError(ValueError):
    pass


@dataclass(frozen=True)
class Search:
    date_from: dt.date
    date_to: dt.date
    dept: str | None = None
    status: str | None = None
    mobile: str | None = None
    licence: str | None = None
    page: int = 0

    @classmethod
    def parse(cls, form: dict[str, Any], today: dt.date, known: list[str]) -> Search:
        try:
            date_to = as_date(form.get("date_to")) or today
            date_from = as_date(form.get("date_from")) or date_to - dt.timedelta(
                days=DEFAULT_DAYS - 1
            )
        except ValueError:
            raise SearchError("日期格式应为 YYYY-MM-DD  dates are YYYY-MM-DD") from None
        if date_from > date_to:
            raise SearchError("开始日期晚于结束日期  the first day is after the last")
        dept = (form.get("dept") or "").strip() or None
        if dept is not None and dept not in known:
            raise SearchError("没有这个部门  no such department")
        status = (form.get("status") or "").strip() or None
        if status is not None and status not in MESSAGE_STATUSES:
            raise SearchError("没有这个状态  no such status")
        try:
            page = max(0, int(form.get("page") or 0))
        except ValueError:
            page = 0
        return cls(
            date_from,
            date_to,
            dept,
            status,
            normalize_mobile(form.get("mobile")),
            (form.get("licence") or "").strip() or None,
            page,
        )

    def params(self) -> dict[str, Any]:
        return {
            "date_from": stamp(dt.datetime.combine(self.date_from, dt.time())),
            "date_to": stamp(dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time())),
            "dept": self.dept,
            "status": self.status,
            "mobile": self.mobile,
            "licence": self.licence,
        }

    def switches(self) -> dict[str, bool]:
        return {
            "dept": bool(self.dept),
            "status": bool(self.status),
            "mobile": bool(self.mobile),
            "licence": bool(self.licence),
        }


def normalize_mobile(value: Any) -> str | None:
    """A mobile as the outbox keeps it masked (``138****5678``): a full number is masked here."""
    s = re.sub(r"[\s-]", "", str(value or ""))
    if not s:
        return None
    s = s.removeprefix("+86")
    return s if "*" in s else mask_mobile(s)


@dataclass
class MessageRow:
    id: str
    dept_code: str
    created_at: Any
    sent_at: Any
    status: str
    recipient_masked: str
    template_name: str
    gateway: str
    attempts: int
    last_code: str | None
    provider_message_id: str | None
    body_sha256: str
    licences: list[str] = field(default_factory=list)

    def cells(self) -> list[Any]:
        return [
            self.id,
            self.dept_code,
            self.created_at,
            self.sent_at,
            self.status,
            self.recipient_masked,
            " ".join(self.licences),
            self.template_name,
            self.gateway,
            self.attempts,
            scrub(self.last_code),
            self.provider_message_id,
            self.body_sha256,
        ]


def _with_licences(conn: Any, rows: list[MessageRow]) -> list[MessageRow]:
    if not rows:
        return rows
    by_id = {r.id: r for r in rows}
    for r in conn.execute(
        templated("ui_delivery_licences", conn, expanding=("ids",)), {"ids": list(by_id)}
    ):
        by_id[r.message_id].licences.append(mask_licence_no(r.licence_no))
    return rows


def search_messages(
    engine: Engine, search: Search, *, limit: int | None = PAGE_SIZE
) -> list[MessageRow]:
    """One page of the search (``limit`` rows from the search's page; one more says there are more)."""
    with engine.connect() as conn:
        params = search.params() | (
            {"limit": limit + 1, "offset": search.page * limit} if limit else {}
        )
        result = conn.execute(
            templated("ui_delivery_search", conn, limit=bool(limit), **search.switches()), params
        )
        rows = [MessageRow(**r) for r in result.mappings()]
        return _with_licences(conn, rows)


def iter_messages(engine: Engine, search: Search) -> Iterator[MessageRow]:
    """Every message the search finds (up to :data:`EXPORT_CAP`), streamed in blocks."""
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=1000).execute(
            templated("ui_delivery_search", conn, limit=False, **search.switches()), search.params()
        )
        n = 0
        for block in result.mappings().partitions(1000):
            with engine.connect() as side:
                yield from _with_licences(side, [MessageRow(**r) for r in block])
            n += len(block)
            if n >= EXPORT_CAP:
                return


@dataclass
class MessageHistory:
    message: dict[str, Any]
    reminders: list[dict[str, Any]]
    attempts: list[dict[str, Any]]
    #: the call tasks its reminders became, each with its ``outcomes`` (who, when, what, note)
    call_tasks: list[dict[str, Any]] = field(default_factory=list)


def message_history(engine: Engine, message_id: str) -> MessageHistory | None:
    from licence_reminder.db import sql

    with engine.connect() as conn:
        message = conn.execute(sql("ui_message", conn), {"id": message_id}).mappings().first()
        if message is None:
            return None
        reminders = [
            dict(r)
            for r in conn.execute(sql("ui_message_reminders", conn), {"id": message_id}).mappings()
        ]
        attempts = [
            dict(r)
            for r in conn.execute(sql("ui_message_attempts", conn), {"id": message_id}).mappings()
        ]
        tasks = [
            dict(r)
            for r in conn.execute(sql("ui_message_call_tasks", conn), {"id": message_id}).mappings()
        ]
        outcomes = []
        if tasks:
            outcomes = [
                dict(r)
                for r in conn.execute(
                    sql("ui_message_call_outcomes", conn), {"id": message_id}
                ).mappings()
            ]
    m = dict(message)
    m["last_message"] = scrub(m["last_message"])
    m["last_code"] = scrub(m["last_code"])
    for r in reminders:
        r["licence_no"] = mask_licence_no(r["licence_no"])
        r["status_reason"] = scrub(r["status_reason"])
    for a in attempts:
        a["response_code"] = scrub(a["response_code"])
    return MessageHistory(m, reminders, attempts, _with_outcomes(tasks, outcomes))


def _with_outcomes(
    tasks: list[dict[str, Any]], outcomes: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    from licence_reminder.calls import OUTCOMES, REASONS, STATUS_LABELS

    by_task: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for o in outcomes:
        o["outcome_label"] = OUTCOMES.get(o["outcome"], (o["outcome"],))[0]
        o["note"] = scrub(o["note"])
        by_task[o["call_task_id"]].append(o)
    for t in tasks:
        t["licence_no"] = mask_licence_no(t["licence_no"])
        t["reason"] = scrub(t["reason"])
        t["reason_label"] = REASONS.get(t["reason_code"], t["reason_code"])
        t["status_label"] = STATUS_LABELS.get(t["status"], t["status"])
        t["outcomes"] = by_task.get(t["id"], [])
    return tasks


@dataclass
class Lapsed:
    date_from: dt.date
    date_to: dt.date
    dept: str | None
    rows: list[dict[str, Any]]
    reasons: dict[str, list[tuple[str, int]]]

    @property
    def total(self) -> int:
        return sum(n for items in self.reasons.values() for _, n in items)


def lapsed_report(
    engine: Engine,
    date_from: dt.date,
    date_to: dt.date,
    dept: str | None,
    *,
    limit: int | None = LAPSED_SHOWN,
) -> Lapsed:
    params = {"date_from": stamp(date_from), "date_to": stamp(date_to), "dept": dept}
    # one pass over the view: every row is counted by reason, the first ``limit`` kept (asking the
    # view twice, for the counts and for the rows, took twice as long: 1.2 s for a department's year)
    counted: Counter[tuple[str, str]] = Counter()
    rows: list[dict[str, Any]] = []
    with engine.connect() as conn:
        for r in conn.execute(templated("ui_lapsed", conn, dept=bool(dept)), params).mappings():
            counted[(r["dept_code"], r["reason"])] += 1
            if limit is None or len(rows) < limit:
                rows.append(dict(r))
    reasons: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (dept_code, reason), n in sorted(
        counted.items(), key=lambda item: (item[0][0], -item[1], item[0][1])
    ):
        reasons[dept_code].append((reason, n))
    for r in rows:
        r["licence_no"] = mask_licence_no(r["licence_no"])
    return Lapsed(date_from, date_to, dept, rows, dict(reasons))


# ----------------------------------------------------------------------------------- routes
def _viewer_codes(viewer: access.Viewer) -> dict[str, str]:
    forbid_unless(viewer.may(access.DELIVERY_LOG))
    return departments(ledger())


async def _form(request: Request) -> dict[str, Any]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


FormDep = Annotated[dict[str, Any], Depends(_form)]


def _search_page(
    request: Request, viewer: access.Viewer, codes: dict[str, str], form: dict[str, Any]
) -> HTMLResponse:
    error = None
    try:
        search = Search.parse(form, today_local(), list(codes))
        rows = search_messages(ledger(), search)
    except SearchError as exc:
        error, rows = str(exc), []
        search = Search.parse({}, today_local(), list(codes))
    more = len(rows) > PAGE_SIZE
    return render(
        request,
        "delivery_log.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        search=search,
        rows=rows[:PAGE_SIZE],
        more=more,
        error=error,
        codes=codes,
        statuses=MESSAGE_STATUSES,
        status=400 if error else 200,
    )


@router.get("/delivery-log", response_class=HTMLResponse)
def delivery_log_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes = _viewer_codes(viewer)
    return _search_page(request, viewer, codes, {})


@router.post("/delivery-log", response_class=HTMLResponse)
def delivery_log_search(request: Request, form: FormDep, viewer: ViewerDep) -> HTMLResponse:
    codes = _viewer_codes(viewer)
    return _search_page(request, viewer, codes, form)


@router.post("/delivery-log/export")
def delivery_log_export(request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    codes = _viewer_codes(viewer)
    try:
        search = Search.parse(form, today_local(), list(codes))
    except SearchError as exc:
        raise HTTPException(status_code=400, detail=str(exc)) from None
    name = f"delivery-log_{search.date_from}_{search.date_to}"
    rows = (r.cells() for r in iter_messages(ledger(), search))
    if form.get("format") == "xlsx":
        title = f"发送记录 Delivery log {search.date_from} – {search.date_to}（手机号已脱敏 mobiles masked）"
        body = xlsx_bytes([("发送记录", title, SEARCH_HEADERS, rows)])
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return StreamingResponse(
        csv_bytes(SEARCH_HEADERS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/delivery-log/message/{message_id}", response_class=HTMLResponse)
def message_page(message_id: str, request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes = _viewer_codes(viewer)
    if not re.fullmatch(r"[0-9A-Za-z_-]{1,64}", message_id):
        raise HTTPException(status_code=404, detail="no such message")
    history = message_history(ledger(), message_id)
    if history is None:
        raise HTTPException(status_code=404, detail="no such message")
    return render(
        request,
        "message.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        h=history,
        codes=codes,
        statuses=MESSAGE_STATUSES,
        call_list=viewer.may(access.CALL_LIST)
        or viewer.may(access.scoped(access.CALL_LIST, history.message["dept_code"])),
    )


def _lapsed_args(request: Request, codes: dict[str, str]) -> tuple[dt.date, dt.date, str | None]:
    q = request.query_params
    today = today_local()
    try:
        date_to = as_date(q.get("date_to")) or today - dt.timedelta(days=1)
        date_from = as_date(q.get("date_from")) or date_to - dt.timedelta(days=29)
    except ValueError:
        raise HTTPException(status_code=400, detail="dates are YYYY-MM-DD") from None
    dept = q.get("dept") or None
    if dept is not None and dept not in codes:
        raise HTTPException(status_code=400, detail="no such department")
    return date_from, date_to, dept


@router.get("/delivery-log/lapsed", response_class=HTMLResponse)
def lapsed_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes = _viewer_codes(viewer)
    date_from, date_to, dept = _lapsed_args(request, codes)
    report = lapsed_report(ledger(), date_from, date_to, dept)
    return render(
        request,
        "lapsed.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        report=report,
        codes=codes,
        shown=LAPSED_SHOWN,
    )


@router.get("/delivery-log/lapsed.{fmt}")
def lapsed_export(fmt: str, request: Request, viewer: ViewerDep) -> Response:
    codes = _viewer_codes(viewer)
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(status_code=404, detail="csv or xlsx")
    date_from, date_to, dept = _lapsed_args(request, codes)
    report = lapsed_report(ledger(), date_from, date_to, dept, limit=None)
    rows = [
        [
            r["dept_code"],
            r["licence_no"],
            r["licence_name"],
            r["expiry_date"],
            r["entered_ledger_at"],
            r["reason"],
        ]
        for r in report.rows
    ]
    name = f"lapsed-without-reminder_{date_from}_{date_to}"
    if fmt == "xlsx":
        title = f"到期未获提醒 Lapsed without a delivered reminder {date_from} – {date_to}"
        reasons = [[d, reason, n] for d, items in report.reasons.items() for reason, n in items]
        body = xlsx_bytes(
            [
                ("到期未获提醒", title, LAPSED_HEADERS, rows),
                ("按原因 by reason", "", ("部门 department", "原因 reason", "数量 count"), reasons),
            ]
        )
        return Response(
            body,
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return StreamingResponse(
        csv_bytes(LAPSED_HEADERS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )
