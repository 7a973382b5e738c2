"""Call list (call staff): a place in the navigation until the call-task model arrives (issue 15).

Call staff see only their own department's list: the page asks for the call list of the city
(operations, auditors) or of a department (``lr_call_staff_<code>``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from licence_reminder.ui import access
from licence_reminder.ui.auth import ViewerDep
from licence_reminder.ui.web import Page, departments, forbid_unless, ledger, render

PAGE = Page("call-list", "人工联系 Call list", lambda v, codes: v.may_any(access.CALL_LIST, codes))
router = APIRouter()


@router.get("/call-list", response_class=HTMLResponse)
def call_list_page(request: Request, viewer: ViewerDep) -> HTMLResponse:
    codes = departments(ledger())
    mine = viewer.departments(access.CALL_LIST, codes)
    forbid_unless(bool(mine))
    return render(request, "call_list.html.j2", viewer, known=list(codes), page=PAGE,
                  departments=[(c, codes[c]) for c in mine])
