"""The channels API, served by the Airflow plugin ``plugins/licence_reminder_channels.py`` under
``/licence-reminder-channels`` (or on its own: ``python -m licence_reminder.channels.api``).

- ``POST /v1/consents``: the mini-program's back end reports a holder's "allow" (201 recorded,
  200 already recorded, 409 the same ``client_ref`` with other content, 422 invalid);
  ``GET /v1/consents/{client_ref}``; ``POST /v1/consents/revoke``.
- ``GET /v1/departments/{dept}/prompts?cursor=…&limit=…``: the department's prompts changed after
  the cursor; ``POST /v1/departments/{dept}/prompts/ack``: shown to their holders.

Every route but ``/v1/health`` takes a caller's token (``clients``): 401 without a valid one, 403
for a caller without the scope. Plugin endpoints are not behind Airflow's login: this is their
authentication. Answers never quote an openid, mobile or ID number a caller did not send.
"""

from __future__ import annotations

import functools
import logging
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Header, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from licence_reminder.channels.clients import Client, Clients, NotAllowed, NotAuthenticated

log = logging.getLogger(__name__)
URL_PREFIX = "/licence-reminder-channels"
_DEPT = r"^[a-z][a-z0-9_]{1,31}$"


@functools.cache
def _ledger():  # type: ignore[no-untyped-def]
    from licence_reminder.config import Settings
    from licence_reminder.db import engine_for

    return engine_for(Settings.from_env().ledger_conn_id)


def _caller(request: Request, authorization: Annotated[str | None, Header()] = None) -> Client:
    try:
        return request.app.state.clients.authenticate(authorization)
    except NotAuthenticated as exc:
        raise HTTPException(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from None


#: the request's caller (FastAPI dependency): 401 without a valid token
Caller = Annotated[Client, Depends(_caller)]


def scoped(client: Client, scope: str) -> None:
    try:
        client.require(scope)
    except NotAllowed as exc:
        raise HTTPException(403, str(exc)) from None


def create_app(clients: Clients | None = None, ledger: Any = None) -> FastAPI:
    """The app; ``clients`` and ``ledger`` (an engine) are resolved from Airflow connections
    when not given (tests give them)."""
    app = FastAPI(
        title="Licence reminder channels API",
        version="1",
        description="Consent intake for the mini-program; in-system prompts for business systems "
        "(docs/channels.md).",
    )
    app.state.clients = clients or Clients()

    def engine() -> Any:
        return ledger if ledger is not None else _ledger()

    @app.get("/v1/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/v1/consents", status_code=201)
    def add_consent(client: Caller, payload: Annotated[dict[str, Any], Body()]) -> Any:
        from licence_reminder.channels import consent

        scoped(client, "consents")
        try:
            stored, created = consent.record(engine(), client.client_id, payload)
        except consent.ConsentInvalid as exc:
            raise HTTPException(422, str(exc)) from None
        except consent.ConsentConflict as exc:
            raise HTTPException(409, str(exc)) from None
        log.info(
            "consent %s from %s: %s (%s)",
            stored["id"],
            client.client_id,
            "recorded" if created else "already recorded",
            stored["openid"],
        )
        return stored if created else JSONResponse(stored, status_code=200)

    @app.get("/v1/consents/{client_ref}")
    def get_consent(
        client: Caller, client_ref: Annotated[str, Path(max_length=64)]
    ) -> dict[str, Any]:
        from licence_reminder.channels import consent

        scoped(client, "consents")
        found = consent.get(engine(), client.client_id, client_ref)
        if found is None:
            raise HTTPException(404, "no consent with this client_ref from this client")
        return found

    @app.post("/v1/consents/revoke")
    def revoke_consent(
        client: Caller, payload: Annotated[dict[str, Any], Body()]
    ) -> dict[str, int]:
        from licence_reminder.channels import consent

        scoped(client, "consents")
        try:
            return {"revoked": consent.revoke(engine(), client.client_id, payload)}
        except consent.ConsentInvalid as exc:
            raise HTTPException(422, str(exc)) from None

    @app.get("/v1/departments/{dept}/prompts")
    def prompt_feed(
        client: Caller,
        dept: Annotated[str, Path(pattern=_DEPT)],
        cursor: Annotated[str, Query(pattern=r"^\d{1,18}$")] = "0",
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        from licence_reminder.channels import prompts

        scoped(client, f"prompts:{dept}")
        return prompts.page(
            engine(), dept, cursor=int(cursor), limit=limit, caller=client.client_id
        )

    @app.post("/v1/departments/{dept}/prompts/ack")
    def prompt_ack(
        client: Caller,
        dept: Annotated[str, Path(pattern=_DEPT)],
        payload: Annotated[dict[str, Any], Body()],
    ) -> dict[str, Any]:
        from licence_reminder.channels import prompts

        scoped(client, f"prompts:{dept}")
        ids, by = payload.get("ids"), payload.get("acknowledged_by") or ""
        if (
            not isinstance(ids, list)
            or not ids
            or len(ids) > 500
            or not all(isinstance(i, str) and len(i) == 32 and i.isalnum() for i in ids)
        ):
            raise HTTPException(422, "ids: a list of 1-500 prompt ids (32 letters and digits each)")
        if not isinstance(by, str) or len(by) > 100:
            raise HTTPException(
                422, "acknowledged_by: who showed it (a window, a service), at most 100 characters"
            )
        return {
            "results": prompts.acknowledge(
                engine(), dept, list(dict.fromkeys(ids)), by=by, caller=client.client_id
            )
        }

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the API on its own (the demo; a deployment serves it through the plugin)."""
    import argparse
    import socket
    from pathlib import Path as FilePath

    import uvicorn

    parser = argparse.ArgumentParser(description="the channels API on its own")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--port-file", type=FilePath)
    args = parser.parse_args(argv)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    if args.port_file:
        args.port_file.write_text(str(sock.getsockname()[1]))
    app = FastAPI()
    app.mount(URL_PREFIX, create_app())
    uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
