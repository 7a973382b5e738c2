"""`make demo` and the channels API on the real Airflow API server (the plugin
``plugins/licence_reminder_channels.py``), on the demo's data: the demo shows SMS, mini-program and
in-system prompts and counts each; docs/channels.md's worked examples run as written."""

from __future__ import annotations

import json
import os
import re
import subprocess
from types import SimpleNamespace

import requests
from conftest import ROOT

PREFIX = "/licence-reminder-channels"


def demo_token(client: str) -> str:
    env = subprocess.run(
        [
            "bash",
            "-c",
            f'source scripts/demo-env.sh && echo "$AIRFLOW_CONN_LR_CLIENT_{client.upper()}"',
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LR_"))},
    )
    return f"{client}.{json.loads(env.stdout)['password']}"


def test_the_demo_reaches_holders_by_sms_mini_program_and_prompt(
    ui_server: SimpleNamespace,
) -> None:
    out = ui_server.demo_output
    subscribed = re.search(r"mini-program: (\d+) holders of scjgj subscribed", out)
    assert subscribed and int(subscribed[1]) >= 1, out[-3000:]
    line = re.search(
        r"by channel, this run \(reminders\): SMS (\d+) sent, mini-program (\d+) sent, "
        r"in-system prompts (\d+) written \((\d+) acknowledged\)",
        out,
    )
    assert line, out[-3000:]
    sms, mini, prompts, acknowledged = map(int, line.groups())
    assert sms > 0 and mini >= 1 and prompts > 0 and acknowledged == 1
    assert re.search(r"in-system prompts: the scjgj business system pulled \d+", out)
    # the summary counts each channel, per department
    lines = re.findall(r"^  channels +: (.*)$", out, flags=re.MULTILINE)
    assert any(
        re.match(r"sms \d+ .*; miniprogram \d+ \(\d+ sent.*; prompt \d+ \(\d+ acknowledged", line)
        for line in lines
    ), lines


def test_the_plugin_serves_the_channels_api_with_its_own_authentication(
    ui_server: SimpleNamespace,
) -> None:
    api = f"{ui_server.url}{PREFIX}"
    assert requests.get(f"{api}/v1/health", timeout=30).json() == {"ok": True}
    assert requests.get(f"{api}/v1/departments/scjgj/prompts", timeout=30).status_code == 401
    other = {"Authorization": f"Bearer {demo_token('demo_miniapp')}"}
    assert (
        requests.get(f"{api}/v1/departments/scjgj/prompts", headers=other, timeout=30).status_code
        == 403
    )
    mine = {"Authorization": f"Bearer {demo_token('demo_scjgj_biz')}"}
    feed = requests.get(f"{api}/v1/departments/scjgj/prompts", headers=mine, timeout=30).json()
    assert feed["prompts"] and {p["status"] for p in feed["prompts"]} <= {
        "open",
        "acknowledged",
        "withdrawn",
        "expired",
    }


def worked_examples(name: str) -> str:
    text = (ROOT / "docs" / "channels.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n# worked example: (\w+)\n(.*?)```", text, flags=re.DOTALL)
    return next(body for label, body in blocks if label == name)


def test_the_documented_worked_examples_run_as_written(
    ui_server: SimpleNamespace, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    env = {
        **os.environ,
        "API": ui_server.url,
        "TOKEN": demo_token("demo_scjgj_biz"),
        "INTAKE_TOKEN": demo_token("demo_miniapp"),
    }
    for name in ("prompts", "consents"):
        script = "set -euo pipefail\n" + worked_examples(name)
        run = subprocess.run(
            ["bash", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert run.returncode == 0, (name, run.stdout[-2000:], run.stderr[-2000:])
        if name == "prompts":
            assert '"acknowledged":true' in run.stdout.replace(" ", "")
        else:
            assert '{"revoked":1}' in run.stdout.replace(" ", "")
