"""A running Airflow API server on the demo's data, with the FAB auth manager and the demo users:
built once per session (the demo's pipeline ~50 s, the server ~20 s)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from conftest import ROOT

SERVER_START_TIMEOUT = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _demo_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LR_"))}
    env.update(LR_DEMO_DIR=str(var), PYTHONPATH=str(ROOT / "include"))
    return env


@pytest.fixture(scope="session")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    var = tmp_path_factory.mktemp("ui-demo")
    env = _demo_env(var)
    demo = subprocess.run(
        ["bash", str(ROOT / "scripts" / "demo.sh")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if demo.returncode != 0:
        pytest.fail(
            f"make demo failed for the UI tests:\n{demo.stdout[-3000:]}\n{demo.stderr[-3000:]}"
        )
    port = _free_port()
    log = (var / "api-server.log").open("w")
    # FAB allows 5 logins per 40 s from one address; the suite logs in as every role in turn
    server_env = {**env, "AIRFLOW__FAB__AUTH_RATE_LIMIT": "100 per 40 second"}
    server = subprocess.Popen(
        [
            "bash",
            "-c",
            (
                f'source scripts/demo-env.sh && exec "{ROOT}/.venv/bin/airflow" api-server '
                f"--host 127.0.0.1 --port {port}"
            ),
        ],
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"airflow api-server exited ({server.returncode}): "
                    f"{(var / 'api-server.log').read_text()[-3000:]}"
                )
            try:
                if requests.get(f"{url}/api/v2/version", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"airflow api-server not up after {SERVER_START_TIMEOUT} s: "
                    f"{(var / 'api-server.log').read_text()[-3000:]}"
                )
            time.sleep(1)
        logins = json.loads((var / "ui-users.json").read_text())
        yield SimpleNamespace(
            url=url, app=f"{url}/licence-reminder", logins=logins, var=var, demo_output=demo.stdout
        )
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


@pytest.fixture(scope="session")
def tokens(ui_server: SimpleNamespace) -> dict[str, str]:
    """An API token per demo user, from the auth manager's own token endpoint."""
    out = {}
    for user, password in ui_server.logins.items():
        r = requests.post(
            f"{ui_server.url}/auth/token", json={"username": user, "password": password}, timeout=30
        )
        assert r.status_code == 201, (user, r.status_code, r.text[:200])
        out[user] = r.json()["access_token"]
    return out
