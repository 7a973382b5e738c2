"""The UI's FastAPI app: the pages' routers behind one layout, security headers, error pages,
and the index that sends each user to the first page their roles open. The Airflow plugin
(``plugins/licence_reminder_ui.py``) mounts it under :data:`~licence_reminder.ui.web.URL_PREFIX`.
"""

from __future__ import annotations

from fastapi import FastAPI, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from licence_reminder.config import local_now
from licence_reminder.ui import auth
from licence_reminder.ui.pages import PAGES, routers
from licence_reminder.ui.web import (
    airflow_path,
    base_path,
    departments,
    forbid_unless,
    ledger,
    templates,
)

_SECURITY_HEADERS = {
    # inline CSS/JS only; nothing from another origin, so the pages work offline
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app() -> FastAPI:
    app = FastAPI(title="Licence reminder pages", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.pages = PAGES  # the navigation (web.render)

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
        response = (
            templates()
            .get_template("error.html.j2")
            .render(
                base=base_path(request),
                airflow=airflow_path(request),
                nav=[],
                viewer=None,
                now=local_now(),
                logout=None,
                status=exc.status_code,
                detail=exc.detail,
                login=login,
            )
        )
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
