"""The channels beside SMS in a test: a catalogue entry with a channel policy, the WeChat
simulator's template, consents through the intake, and a day of dispatch through the task layer."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from licence_reminder.registry import Catalogue

from support.ledger_world import CATALOGUE

OPENIDS = {
    name: f"o{name:_<27}"[:28] for name in ("alice", "bob", "carol", "dave", "erin", "frank")
}


def catalogue_with(stage1: list[str], stage2: list[str]) -> Catalogue:
    data = CATALOGUE.model_dump(mode="json")
    data["entries"][0]["channels"] = {"stage1": stage1, "stage2": stage2}
    for key in ("first_lead", "second_lead"):  # dumped as null: give only what the entry had
        data["entries"][0].pop(key, None)
    return Catalogue.model_validate(data)


def point_tasks_at(
    monkeypatch: pytest.MonkeyPatch, *, ledger_url: str, sim: Any, tmp_path: Any
) -> None:
    """The connections and settings the dispatch tasks resolve, on this ledger and simulator."""
    from conftest import airflow_conn_json
    from licence_reminder.simulator.wechat import DEMO_TEMPLATE, DEMO_TEMPLATE_ID

    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url))
    monkeypatch.setenv("AIRFLOW_CONN_SMS_GATEWAY", json.dumps(sim.connection("aliyun")))
    monkeypatch.setenv("AIRFLOW_CONN_WECHAT_MINIPROGRAM", json.dumps(sim.wechat_connection()))
    monkeypatch.setenv("LR_SENDING_HOURS", "0-24")
    monkeypatch.setenv("LR_RETRY_WAIT", "2")
    monkeypatch.setenv("LR_SEND_SHARDS", "2")
    monkeypatch.setenv("LR_REGISTRY_DIR", str(tmp_path / "no-registry"))
    (tmp_path / "no-registry").mkdir(exist_ok=True)
    sim.wechat.templates[DEMO_TEMPLATE_ID] = list(DEMO_TEMPLATE["data"])


def dispatch_day(day: dt.date) -> dict[str, Any]:
    """plan → render → send (every SMS shard and the mini-program's) → receipts, as the DAG runs them."""
    from licence_reminder import tasks
    from licence_reminder.channels import MINIPROGRAM_SHARD

    run_id = f"dispatch:{day}:{dt.datetime.now().timestamp()}"
    out: dict[str, Any] = {
        "plan": tasks.dispatch_plan(today=day.isoformat(), run_id=run_id),
        "render": tasks.dispatch_render(today=day.isoformat(), run_id=run_id),
    }
    out["send"] = [tasks.dispatch_send(shard=s, run_id=run_id) for s in (0, 1, MINIPROGRAM_SHARD)]
    out["receipts"] = tasks.dispatch_receipts(today=day.isoformat(), run_id=run_id)
    return out
