"""The logged-in Airflow user of a request, through the auth manager's public interface.

A plugin's FastAPI app is mounted inside Airflow's API server but is not behind its login: every
route of the UI takes :func:`current_viewer`, which reads the API server's JWT — the
``Authorization: Bearer`` header (API clients) or the ``_token`` cookie the Airflow UI's login
sets (browsers; HttpOnly, same origin) — and has the configured auth manager verify it
(``get_user_from_token``: signature, expiry, revocation, and for FAB an active account). No valid
token: 401, before any query runs. Which pages the user may then see is asked of the same auth
manager (:mod:`licence_reminder.ui.access`).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request

from licence_reminder.ui.access import Viewer

#: the cookie Airflow's UI keeps its token in (airflow.api_fastapi.auth.managers.base_auth_manager)
TOKEN_COOKIE = "_token"


class NotLoggedIn(HTTPException):
    def __init__(self, why: str) -> None:
        super().__init__(status_code=401, detail=why, headers={"WWW-Authenticate": "Bearer"})


def request_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return request.cookies.get(TOKEN_COOKIE) or None


def _auth_manager() -> Any:
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


async def current_viewer(request: Request) -> Viewer:
    """FastAPI dependency: the request's user, or 401."""
    from jwt import ExpiredSignatureError, InvalidTokenError

    token = request_token(request)
    if not token:
        raise NotLoggedIn("not logged in")
    manager = _auth_manager()
    try:
        user = await manager.get_user_from_token(token)
    except ExpiredSignatureError:
        raise NotLoggedIn("the login has expired") from None
    except InvalidTokenError:
        raise NotLoggedIn("the login is not valid") from None

    def authorize(method: str, resource: str) -> bool:
        return manager.is_authorized_custom_view(method=method, resource_name=resource, user=user)

    return Viewer(name=user.get_name(), authorize=authorize)


def login_url(next_url: str) -> str | None:
    """Where a browser logs in (the auth manager's page), coming back to ``next_url``."""
    try:
        return _auth_manager().get_url_login(next_url=next_url)
    except Exception:  # noqa: BLE001 - a login link is a courtesy; the 401 stands without it
        return None


def logout_url() -> str | None:
    try:
        return _auth_manager().get_url_logout()
    except Exception:  # noqa: BLE001
        return None


#: a route's logged-in user (FastAPI dependency)
ViewerDep = Annotated[Viewer, Depends(current_viewer)]
