"""The UI's FastAPI app: shared layout, navigation, the ledger, and the pages' routers.

A page is one module in :mod:`licence_reminder.ui.pages` (its ``PAGE`` and ``router``), one
template in ``include/templates/ui/`` extending ``base.html.j2``, and its SQL in
``include/sql/ui_*.sql``; it is listed in :data:`PAGES`. Every route takes the logged-in
:class:`~licence_reminder.ui.access.Viewer` and refuses (403) what the user may not see.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

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

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR / "ui")),
                             autoescape=True, undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True)
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


def render(request: Request, template: str, viewer: Viewer | None, *, status: int = 200,
           known: list[str] | None = None, **context: Any) -> HTMLResponse:
    from licence_reminder.ui.pages import PAGES

    nav = []
    if viewer is not None:
        codes = known if known is not None else list(departments(ledger()))
        nav = [p for p in PAGES if p.allowed(viewer, codes)]
    html = templates().get_template(template).render(
        base=base_path(request), airflow=airflow_path(request), nav=nav, viewer=viewer,
        now=local_now(), logout=auth.logout_url() if viewer else None, **context)
    return HTMLResponse(html, status_code=status)


_SECURITY_HEADERS = {
    # inline CSS/JS only; nothing from another origin, so the pages work offline
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
                               "img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app() -> FastAPI:
    from licence_reminder.ui.pages import PAGES, routers

    app = FastAPI(title="Licence reminder pages", docs_url=None, redoc_url=None, openapi_url=None)

    @app.middleware("http")
    async def _headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for k, v in _SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        return response

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code not in (401, 403, 404, 400):
            return Response(status_code=exc.status_code)
        login = auth.login_url(str(request.url)) if exc.status_code == 401 else None
        response = templates().get_template("error.html.j2").render(
            base=base_path(request), airflow=airflow_path(request), nav=[], viewer=None,
            now=local_now(), logout=None, status=exc.status_code, detail=exc.detail, login=login)
        return HTMLResponse(response, status_code=exc.status_code, headers=exc.headers)

    @app.get("/", include_in_schema=False)
    async def index(request: Request) -> Response:
        viewer = await auth.current_viewer(request)
        codes = list(departments(ledger()))
        for page in PAGES:
            if page.allowed(viewer, codes):
                return RedirectResponse(f"{base_path(request)}/{page.slug}", status_code=303)
        forbid_unless(False)
        raise AssertionError  # unreachable

    for router in routers():
        app.include_router(router)
    return app


def today_local() -> dt.date:
    return local_now().date()
