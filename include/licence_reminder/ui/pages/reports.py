"""Data-quality reports: every department's reports by run, each opening the HTML report.

The reports are the files each sync writes into ``LR_REPORT_DIR`` (``dq_<code>_<run>.html``,
personal data masked when written). A file is served only by its exact name, found in that
folder's listing, and only to a user who may see its department's reports.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse

from licence_reminder.ui import access
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.web import Page, departments, forbid_unless, ledger, render

PAGE = Page(
    "reports", "数据质量报告 DQ reports", lambda v, codes: v.may_any(access.DQ_REPORTS, codes)
)
router = APIRouter()

SHOWN_PER_DEPARTMENT = 30


@dataclass(frozen=True)
class Report:
    name: str
    dept: str
    run: str
    written: dt.datetime
    size: int


def report_dir() -> Path:
    from licence_reminder.config import Settings

    return Settings.from_env().report_dir


def list_reports(folder: Path, codes: list[str]) -> dict[str, list[Report]]:
    """The reports in ``folder`` of the departments ``codes``, newest first per department. A
    file is a department's when its name is ``dq_<code>_…`` (the longest code that fits)."""
    by_length = sorted(codes, key=len, reverse=True)
    out: dict[str, list[Report]] = {c: [] for c in codes}
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return out
    for entry in entries:
        name = entry.name
        if not (name.startswith("dq_") and name.endswith(".html")) or not entry.is_file():
            continue
        code = next((c for c in by_length if name.startswith(f"dq_{c}_")), None)
        if code is None:
            continue
        stat = entry.stat()
        out[code].append(
            Report(
                name,
                code,
                name[len(code) + 4 : -5],
                dt.datetime.fromtimestamp(stat.st_mtime).replace(microsecond=0),
                stat.st_size,
            )
        )
    for reports in out.values():
        reports.sort(key=lambda r: (r.written, r.name), reverse=True)
    return out


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes = departments(ledger())
    mine = viewer.departments(access.DQ_REPORTS, codes)
    forbid_unless(bool(mine))
    dept = request.query_params.get("dept") or None
    if dept is not None:
        forbid_unless(dept in mine)
    shown = [dept] if dept else mine
    reports = list_reports(report_dir(), shown)
    limit = None if dept else SHOWN_PER_DEPARTMENT
    return render(
        request,
        "reports.html.j2",
        viewer,
        known=list(codes),
        page=PAGE,
        reports=reports,
        codes=codes,
        limit=limit,
        mine=mine,
        dept=dept,
    )


@router.get("/reports/{name}", response_class=FileResponse)
def report_file(name: str, viewer: ViewerDep) -> FileResponse:
    codes = departments(ledger())
    mine = viewer.departments(access.DQ_REPORTS, codes)
    forbid_unless(bool(mine))
    folder = report_dir()
    found = {r.name: r for reports in list_reports(folder, list(codes)).values() for r in reports}
    report = found.get(name)
    if report is None:
        raise HTTPException(status_code=404, detail="no such report")
    forbid_unless(report.dept in mine)
    return FileResponse(folder / report.name, media_type="text/html; charset=utf-8")
