"""What every page of the UI shares: its layout and navigation, the ledger, access refusals.

A page is one module in :mod:`licence_reminder.ui.pages` (its ``PAGE`` and ``router``), one
template in ``include/templates/ui/`` extending ``base.html.j2``, and its SQL in
``include/sql/ui_*.sql``; :mod:`licence_reminder.ui.app` puts them together. Every route takes
the logged-in :class:`~licence_reminder.ui.access.Viewer` and refuses (403) what the user may not
see. The navigation lists the app's pages (``app.state.pages``), so that this module imports none.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from licence_reminder.config import TEMPLATES_DIR, local_now
from licence_reminder.ui import auth
from licence_reminder.ui.access import Viewer

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Engine

#: where the plugin mounts the app in the API server
URL_PREFIX = "/licence-reminder"


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    #: whether the viewer may open the page, given the ledger's department codes
    allowed: Callable[[Viewer, list[str]], bool]


def ledger() -> Engine:
    """The ledger, through its Airflow connection (one engine per process)."""
    from licence_reminder.config import Settings
    from licence_reminder.db import engine_for

    return engine_for(Settings.from_env().ledger_conn_id)


def departments(engine: Engine) -> dict[str, str]:
    """Code → name of every department in the ledger."""
    from licence_reminder.db import sql

    with engine.connect() as conn:
        return {r.code: r.name for r in conn.execute(sql("ui_departments", conn))}


def forbid_unless(allowed: bool) -> None:
    if not allowed:
        raise HTTPException(status_code=403, detail="your roles do not include this page")


@functools.cache
def templates() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "ui")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["n"] = lambda v: "—" if v is None else f"{v:,}"
    env.filters["pct"] = lambda v: "—" if v is None else f"{v:.1%}"
    env.filters["ts"] = lambda v: "—" if v is None else str(v)[:19]
    return env


def base_path(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def airflow_path(request: Request) -> str:
    """The Airflow UI's own root, for links to DAG runs (the app is mounted below it)."""
    base = base_path(request)
    return base[: -len(URL_PREFIX)] if base.endswith(URL_PREFIX) else ""


def render(
    request: Request,
    template: str,
    viewer: Viewer | None,
    *,
    status: int = 200,
    known: list[str] | None = None,
    **context: Any,
) -> HTMLResponse:
    nav = []
    if viewer is not None:
        codes = known if known is not None else list(departments(ledger()))
        nav = [p for p in request.app.state.pages if p.allowed(viewer, codes)]
    html = (
        templates()
        .get_template(template)
        .render(
            base=base_path(request),
            airflow=airflow_path(request),
            nav=nav,
            viewer=viewer,
            now=local_now(),
            logout=auth.logout_url() if viewer else None,
            **context,
        )
    )
    return HTMLResponse(html, status_code=status)


def today_local() -> dt.date:
    return local_now().date()
