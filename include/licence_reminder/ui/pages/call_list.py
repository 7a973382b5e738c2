"""Call list (call staff): the holders SMS could not reach, to be phoned (电话告知).

Built on the call-task API the command line shares (:mod:`licence_reminder.calls`): the list,
a task and its outcomes, the audited reveal of a full mobile, recording an outcome, the XLSX
export. Who may do what is asked of the auth manager per department
(:data:`~licence_reminder.ui.access.CALL_LIST`): reading (``GET``) shows a department's tasks with
mobiles masked; acting (``POST``: operations, the department's call staff) reveals a mobile,
records an outcome and exports unmasked. Auditors read, masked, and may do neither.

Reveal, record and export are POSTs: a full mobile is only ever in the body of the answer to
the click that asked for it, never in a URL, and each reveal is a ``personal_data_access`` row
written by ``calls.reveal_mobile``. A POST that a browser says came from another site is refused
(the login cookie is SameSite=Lax, which lets a sibling site on the same domain through).
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from licence_reminder import calls
from licence_reminder.masking import mask_licence_no, mask_name
from licence_reminder.ui import access
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.queries import as_date, scrub
from licence_reminder.ui.web import (
    Page,
    base_path,
    departments,
    forbid_unless,
    ledger,
    render,
    today_local,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

PAGE = Page("call-list", "人工联系 Call list", lambda v, codes: v.may_any(access.CALL_LIST, codes))
router = APIRouter()

PAGE_SIZE = 50
#: which tasks a list shows: (label, whether only unfinished ones, whether only those due by today)
SHOWS = {
    "due": ("今日待拨 To call today", True, True),
    "unfinished": ("全部未完成 Every unfinished task", True, False),
    "all": ("全部（含已完成）Every task", False, False),
}
#: the command line's option names in the API's messages, as the form calls those fields
_FIELD_NAMES = {
    "(--note)": "（请填写备注 fill in the note）",
    "--retry-on": "改日再拨日期 retry date",
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Scope:
    """What a viewer may do on the call list: the departments they read and act on."""

    names: dict[str, str]
    readable: list[str]
    actable: list[str]
    #: the whole city's list (operations, auditors): "every department" is a choice
    city_wide: bool

    def may_act(self, dept_code: str) -> bool:
        return dept_code in self.actable


def scope_of(viewer: access.Viewer) -> Scope:
    """The viewer's call-list departments; 403 without any."""
    names = departments(ledger())
    readable = viewer.departments(access.CALL_LIST, names)
    forbid_unless(bool(readable))
    actable = viewer.departments(access.CALL_LIST, names, access.ACT)
    return Scope(names, readable, actable, viewer.may(access.CALL_LIST))


@dataclass(frozen=True)
class ListQuery:
    #: None: every department (only for a city-wide viewer)
    dept: str | None
    show: str
    page: int

    @classmethod
    def parse(cls, params: Any, scope: Scope) -> ListQuery:
        dept = (params.get("dept") or "").strip() or None
        if dept is None and not scope.city_wide:
            # a department's staff see their department; one with several picks one at a time
            dept = scope.readable[0]
        forbid_unless(dept is None or dept in scope.readable)
        show = params.get("show") or "due"
        if show not in SHOWS:
            raise HTTPException(status_code=400, detail="show is one of " + ", ".join(SHOWS))
        try:
            page = max(0, int(params.get("page") or 0))
        except ValueError:
            page = 0
        return cls(dept, show, page)

    def filter(self, today: dt.date) -> calls.Filter:
        _, open_only, due_only = SHOWS[self.show]
        return calls.Filter(
            dept_code=self.dept, open_only=open_only, due_before=today if due_only else None
        )

    def query_string(self, **changes: Any) -> str:
        from urllib.parse import urlencode

        values = {"dept": self.dept or "", "show": self.show, "page": self.page, **changes}
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 0)})


def shown_task(task: dict[str, Any], scope: Scope) -> dict[str, Any]:
    """A task as the page shows it to this viewer: licence numbers shaped like an ID number
    masked, provider text scrubbed, and names masked for a viewer who only reads (auditors)."""
    out = dict(task)
    out["licence_no"] = mask_licence_no(task["licence_no"])
    out["reason"] = scrub(task["reason"])
    out["closed_reason"] = scrub(task.get("closed_reason"))
    out["may_act"] = scope.may_act(task["dept_code"])
    out["open"] = task["status"] in ("open", "retry")
    if not out["may_act"]:
        out["holder_name"] = mask_name(task["holder_name"]) if task["holder_name"] else None
        out["contact_name"] = mask_name(task["contact_name"]) if task["contact_name"] else None
    for o in out.get("history", []):
        o["note"] = scrub(o["note"])
    return out


def task_list(
    engine: Engine, query: ListQuery, scope: Scope, today: dt.date
) -> tuple[list[dict[str, Any]], int]:
    """One page of the list, soonest expiry first, and how many tasks the filter finds."""
    f = query.filter(today)
    rows = calls.list_tasks(engine, f, limit=PAGE_SIZE, offset=query.page * PAGE_SIZE)
    total = calls.count_tasks(engine, f) if rows or query.page else 0
    return [shown_task(r, scope) for r in rows], total


def task_in_scope(
    engine: Engine, task_id: int, scope: Scope, method: str = access.READ
) -> dict[str, Any]:
    """The task, or 404 (none) / 403 (another department's, or one this viewer may only read)."""
    try:
        task = calls.get_task(engine, task_id)
    except calls.CallTaskError:
        raise HTTPException(status_code=404, detail="no such call task") from None
    departments_allowed = scope.actable if method == access.ACT else scope.readable
    forbid_unless(task["dept_code"] in departments_allowed)
    return task


def api_message(exc: calls.CallTaskError) -> str:
    text = str(exc)
    for flag, label in _FIELD_NAMES.items():
        text = text.replace(flag, label)
    return text


def refuse_cross_site(request: Request) -> None:
    """403 for a POST the browser marks as sent from another site (``Sec-Fetch-Site``)."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise HTTPException(status_code=403, detail="a request from another site is refused")


# ----------------------------------------------------------------------------------- routes
async def _form(request: Request) -> dict[str, str]:
    return {k: v for k, v in (await request.form()).items() if isinstance(v, str)}


FormDep = Annotated[dict[str, str], Depends(_form)]


@router.get("/call-list", response_class=HTMLResponse)
def call_list_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    scope = scope_of(viewer)
    query = ListQuery.parse(request.query_params, scope)
    rows, total = task_list(ledger(), query, scope, today_local())
    return render(
        request,
        "call_list.html.j2",
        viewer,
        known=list(scope.names),
        page=PAGE,
        scope=scope,
        q=query,
        rows=rows,
        total=total,
        page_size=PAGE_SIZE,
        shows=SHOWS,
        outcomes=calls.OUTCOMES,
    )


def _task_page(
    request: Request,
    viewer: access.Viewer,
    scope: Scope,
    task: dict[str, Any],
    *,
    mobile: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    today = today_local()
    return render(
        request,
        "call_task.html.j2",
        viewer,
        known=list(scope.names),
        page=PAGE,
        t=shown_task(task, scope),
        scope=scope,
        mobile=mobile,
        error=error,
        form=form or {},
        outcomes=calls.OUTCOMES,
        recorded=request.query_params.get("recorded"),
        tomorrow=today + dt.timedelta(days=1),
        status=status,
    )


@router.get("/call-list/task/{task_id}", response_class=HTMLResponse)
def call_task_page(task_id: int, request: Request, viewer: ViewerDep) -> HTMLResponse:
    scope = scope_of(viewer)
    return _task_page(request, viewer, scope, task_in_scope(ledger(), task_id, scope))


@router.post("/call-list/task/{task_id}/reveal", response_class=HTMLResponse)
def reveal(task_id: int, request: Request, viewer: ViewerDep) -> HTMLResponse:
    refuse_cross_site(request)
    scope = scope_of(viewer)
    engine = ledger()
    task = task_in_scope(engine, task_id, scope, access.ACT)
    mobile = calls.reveal_mobile(engine, task_id, by=viewer.name, via="ui call list")
    return _task_page(request, viewer, scope, task, mobile=mobile or "")


@router.post("/call-list/task/{task_id}/outcome", response_class=HTMLResponse)
def record(task_id: int, request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    refuse_cross_site(request)
    scope = scope_of(viewer)
    engine = ledger()
    task = task_in_scope(engine, task_id, scope, access.ACT)
    try:
        outcome = form.get("outcome") or ""
        if not outcome:
            raise calls.CallTaskError("请选择联系结果 pick an outcome")
        try:
            retry_on = as_date(form.get("retry_on")) if outcome == "no_answer" else None
        except ValueError:
            raise calls.CallTaskError(
                "改日再拨日期应为 YYYY-MM-DD  the retry date is YYYY-MM-DD"
            ) from None
        calls.record_outcome(
            engine,
            task_id,
            outcome,
            by=viewer.name,
            note=form.get("note"),
            retry_on=retry_on,
            today=today_local(),
        )
    except calls.CallTaskError as exc:
        return _task_page(
            request, viewer, scope, task, error=api_message(exc), form=form, status=400
        )
    return RedirectResponse(
        f"{base_path(request)}/call-list/task/{task_id}?recorded={outcome}", status_code=303
    )


@router.post("/call-list/export")
def export(request: Request, form: FormDep, viewer: ViewerDep) -> Response:
    refuse_cross_site(request)
    scope = scope_of(viewer)
    query = ListQuery.parse(form, scope)
    unmasked = form.get("unmasked") == "1"
    if unmasked:
        forbid_unless(
            scope.may_act(query.dept) if query.dept else viewer.may(access.CALL_LIST, access.ACT)
        )
    today = today_local()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "calls.xlsx"
        calls.export_xlsx(
            ledger(),
            path,
            query.filter(today),
            by=viewer.name,
            unmasked=unmasked,
            via="ui call list export",
        )
        if not unmasked:
            may_act = (
                scope.may_act(query.dept)
                if query.dept
                else viewer.may(access.CALL_LIST, access.ACT)
            )
            _mask_workbook(path, names=not may_act)
        body = path.read_bytes()
    name = f"call-list_{query.dept or 'all'}_{query.show}_{today}{'_unmasked' if unmasked else ''}.xlsx"
    return Response(
        body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


def _mask_workbook(path: Path, *, names: bool) -> None:
    """The API's masked export masks mobiles; here, as on the pages, a licence numbered by its
    holder's ID number is masked too, and for a viewer who only reads, the names."""
    from openpyxl import load_workbook

    maskers = {"licence_no": mask_licence_no}
    if names:
        maskers |= {"holder_name": mask_name, "contact_name": mask_name}
    keys = [key for _, key in calls.EXPORT_COLUMNS]
    wb = load_workbook(path)
    ws = wb.active
    for key, mask in maskers.items():
        column = keys.index(key) + 1
        for (cell,) in ws.iter_rows(min_row=2, min_col=column, max_col=column):
            if cell.value:
                cell.value = mask(cell.value)
    wb.save(path)
