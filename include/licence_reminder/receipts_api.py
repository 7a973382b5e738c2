"""The receiver of pushed delivery reports, served by the Airflow plugin
``plugins/licence_reminder_receipts.py`` under ``/lr-receipts`` (or on its own:
``python -m licence_reminder.receipts_api``).

- ``POST /v1/reports/{receiver}?token=…``: a provider's push, in its own format
  (``licence_reminder.pushed``); the receiver is the connection ``lr_receipts_<receiver>``.
  200 with the provider's own acknowledgement once the reports are stored (applied at once when
  their messages are recorded as sent, else later); 403 from an address outside the receiver's
  allow-list or without its token/signature; 404 no such receiver; 400 a body not in the
  provider's format; 503 the ledger could not store it (the provider pushes again).
- ``GET /v1/health``.

Plugin endpoints are not behind Airflow's login: the allow-list and the token or signature are
this endpoint's authentication. Nothing answered or logged carries a mobile.
"""

from __future__ import annotations

import functools
import json
import logging
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse

from licence_reminder.pushed import ACK, NotAllowed, Receivers, ReportInvalid, apply, store

log = logging.getLogger(__name__)
URL_PREFIX = "/lr-receipts"
_NAME = r"^[a-z0-9_]{2,40}$"
MAX_BODY = 4 * 1024 * 1024


@functools.cache
def _ledger():  # type: ignore[no-untyped-def]
    from licence_reminder.config import Settings
    from licence_reminder.db import engine_for

    return engine_for(Settings.from_env().ledger_conn_id)


def create_app(receivers: Receivers | None = None, ledger: Any = None) -> FastAPI:
    """The app; ``receivers`` and ``ledger`` (an engine) come from Airflow connections when not
    given (tests give them)."""
    app = FastAPI(
        title="Licence reminder delivery reports",
        version="1",
        description="Delivery reports pushed by the SMS providers (docs/pushed-reports.md).",
    )
    app.state.receivers = receivers or Receivers()

    def engine() -> Any:
        return ledger if ledger is not None else _ledger()

    @app.get("/v1/health")
    def health() -> dict[str, bool]:
        return {"ok": True}

    @app.post("/v1/reports/{name}")
    async def push(
        request: Request,
        name: Annotated[str, Path(pattern=_NAME)],
        token: Annotated[str | None, Query(max_length=200)] = None,
    ) -> Any:
        receiver = request.app.state.receivers.get(name)
        if receiver is None:
            raise HTTPException(404, "no such receiver")
        body = await request.body()
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"a push is at most {MAX_BODY} bytes")
        try:
            receiver.authenticate(
                peer=request.client.host if request.client else "",
                forwarded_for=request.headers.get("x-forwarded-for"),
                token=token,
                headers=request.headers,
                body=body,
            )
        except NotAllowed as exc:
            log.warning("push to receiver %s refused: %s", name, exc)
            raise HTTPException(403, str(exc)) from None
        try:
            reports = receiver.parse(json.loads(body))
        except (ValueError, ReportInvalid) as exc:
            raise HTTPException(400, f"not a {receiver.provider} report push: {exc}") from None
        from starlette.concurrency import run_in_threadpool

        try:
            kept = await run_in_threadpool(store, engine(), name, reports)
        except Exception:
            log.exception("reports pushed to receiver %s could not be stored", name)
            raise HTTPException(503, "the reports could not be stored now; push again") from None
        try:
            applied = await run_in_threadpool(lambda: apply(engine(), run_id=f"push:{name}"))
        except Exception:  # stored: the dispatch's receipts task applies them
            log.exception("reports pushed to receiver %s are stored, not applied yet", name)
            applied = {}
        log.info(
            "receiver %s: %d reports (%d new, %d pushed before); applied %s",
            name,
            len(reports),
            kept["new"],
            kept["repeated"],
            json.dumps(applied, sort_keys=True),
        )
        return JSONResponse(ACK[receiver.provider])

    return app


def main(argv: list[str] | None = None) -> int:
    """Serve the receiver on its own (the demo; a deployment serves it through the plugin)."""
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description="the pushed delivery reports receiver on its own")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8767)
    args = parser.parse_args(argv)
    app = FastAPI()
    app.mount(URL_PREFIX, create_app())
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
