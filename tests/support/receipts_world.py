"""The receiver of pushed delivery reports on loopback for tests: its app served by uvicorn in a
thread, on a given ledger, its receivers Airflow connections in the environment (one per
provider, allowing 127.0.0.1, the simulator's credentials for the generic platform's signature)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

TOKEN = "push-token-for-the-tests-only-01"


def receiver_connections(
    monkeypatch: pytest.MonkeyPatch, sim: Any, allow: str = "127.0.0.1/32"
) -> None:
    """``lr_receipts_aliyun``, ``lr_receipts_tencent`` (token) and ``lr_receipts_generic`` (signed)."""
    for provider in ("aliyun", "tencent"):
        monkeypatch.setenv(
            f"AIRFLOW_CONN_LR_RECEIPTS_{provider.upper()}",
            json.dumps(
                {
                    "conn_type": "generic",
                    "password": TOKEN,
                    "extra": {"provider": provider, "allow": [allow]},
                }
            ),
        )
    creds = sim.credentials
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_RECEIPTS_GENERIC",
        json.dumps(
            {
                "conn_type": "generic",
                "login": creds.generic_app_id,
                "password": creds.generic_secret,
                "extra": {"provider": "generic", "allow": [allow], "signing": {}},
            }
        ),
    )


@contextmanager
def serving(ledger: Any) -> Iterator[str]:
    """The receipts app on 127.0.0.1 (a free port), on ``ledger``; yields its base URL."""
    import uvicorn
    from fastapi import FastAPI
    from licence_reminder.receipts_api import URL_PREFIX, create_app

    app = FastAPI()
    app.mount(URL_PREFIX, create_app(ledger=ledger))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the receipts app did not start within 10 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}{URL_PREFIX}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def push_url(base: str, provider: str, token: str | None = TOKEN) -> str:
    """Where ``provider`` is configured to push: its receiver, the token in the query for the
    providers whose pushes carry no signature."""
    url = f"{base}/v1/reports/{provider}"
    return f"{url}?token={token}" if provider != "generic" and token else url
