"""Delivery reports pushed by each provider (Alibaba SmsReport, Tencent's callback, the generic
platform's signed callback) to the receiver app on loopback, from the simulator, on MariaDB and
SQLite: duplicated and reordered batches, a push that overtakes the send's record, agreement with
the pull path, and the receiver's allow-list, token and signature."""

from __future__ import annotations

import json
import re
import subprocess

import pytest
import requests
from conftest import ROOT
from licence_reminder import receipts
from support.dispatch_world import PROVIDERS, attempts, gateway, prepare, send
from support.ledger_world import q
from support.receipts_world import TOKEN, push_url, receiver_connections, serving


@pytest.fixture
def world(setup, monkeypatch):  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    receiver_connections(monkeypatch, sim)
    with serving(ledger) as base:
        yield setup, base


def collect(ledger, gw) -> dict:  # type: ignore[no-untyped-def]
    return receipts.collect(ledger, lambda _: gw, run_id="r1")


def receipt_rows(ledger) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        tuple(r)
        for r in q(
            ledger,
            "SELECT message_id, outcome, response_code, gateway, attempt_no, "
            "provider_message_id FROM delivery_attempt WHERE kind = 'receipt' "
            "ORDER BY message_id",
        )
    ]


def outbox(ledger) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {r.id: r.status for r in q(ledger, "SELECT id, status FROM outbox_message")}


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_duplicated_and_reordered_batch_settles_each_message_once(world, provider: str) -> None:  # type: ignore[no-untyped-def]
    (ledger, _, sim, _), base = world
    cfg, gw = gateway(world[0], provider)
    prepare(world[0], cfg, "P0001", "P0002", "P0003")
    sim.set_faults([{"mobile_suffix": "0002", "fault": "undelivered"}])
    assert send(ledger, gw) == {"sent": 3}

    out = sim.push(provider, push_url(base, provider), duplicate=True, reverse=True)
    assert out["status"] == 200 and out["reports"] == 6
    assert out["reply"] in (
        {"code": 0, "msg": "接收成功"},
        {"result": 0, "errmsg": "OK"},
        {"code": "0", "message": "OK"},
    )
    assert sorted(outbox(ledger).values()) == ["call_list", "delivered", "delivered"]
    rows = receipt_rows(ledger)
    assert len(rows) == 3 and len({r[0] for r in rows}) == 3
    assert sorted(r[1] for r in rows) == ["delivered", "delivered", "undelivered"]
    assert {r[5] for r in rows} == {m["provider_id"] for m in sim.messages()}
    (undelivered,) = q(
        ledger,
        "SELECT r.status, r.status_reason FROM reminder r JOIN outbox_message o "
        "ON o.id = r.message_id WHERE o.status = 'call_list'",
    )
    assert undelivered.status == "call_list" and undelivered.status_reason.startswith(
        "not delivered: "
    )
    assert [
        tuple(r) for r in q(ledger, "SELECT state, COUNT(*) FROM pushed_report GROUP BY state")
    ] == [("applied", 3)]

    # the provider pushes the batch again (it does, when our answer was lost): nothing changes
    assert sim.push(provider, push_url(base, provider))["status"] == 200
    assert receipt_rows(ledger) == rows and len(q(ledger, "SELECT id FROM pushed_report")) == 3
    # and the pull has nothing left to ask
    assert collect(ledger, gw) == {}
    assert receipt_rows(ledger) == rows
    (day,) = q(
        ledger,
        "SELECT messages_accepted, reported_delivered, reported_undelivered FROM v_delivery_daily",
    )
    assert tuple(day) == (3, 2, 1)


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", ["aliyun", "tencent"])
def test_a_report_that_overtakes_the_sends_record_is_kept_and_applied_later(
    world, provider: str
) -> None:  # type: ignore[no-untyped-def]
    (ledger, _, sim, _), base = world
    cfg, gw = gateway(world[0], provider)
    prepare(world[0], cfg, "P0004")
    # accepted, but the reply comes too late and the look-up is throttled: in doubt on our side
    sim.set_faults(
        [{"fault": "timeout", "times": 1}, {"on": "query", "fault": "throttled", "times": 1}],
        timeout_seconds=2.5,
    )
    assert send(ledger, gw).get("lookup_failed") == 1
    assert list(outbox(ledger).values()) in (["sending"], ["unknown"])

    assert sim.push(provider, push_url(base, provider))["status"] == 200
    (kept,) = q(ledger, "SELECT state, message_id FROM pushed_report")
    assert tuple(kept) == ("pending", None)
    assert list(outbox(ledger).values()) in (["sending"], ["unknown"])

    assert send(ledger, gw) == {"recovered_sent": 1}  # the next run settles the doubt
    assert collect(ledger, gw) == {"pushed_delivered": 1}  # the kept report, not a pull
    assert list(outbox(ledger).values()) == ["delivered"]
    assert attempts(ledger) == [
        ("send", "transient"),
        ("lookup", "recovered"),
        ("receipt", "delivered"),
    ]
    (kept,) = q(ledger, "SELECT state, message_id FROM pushed_report")
    assert tuple(kept) == ("applied", next(iter(outbox(ledger))))
    assert len(sim.messages()) == 1


@pytest.mark.mariadb
@pytest.mark.parametrize("provider", PROVIDERS)
def test_push_and_pull_write_the_same_receipt_row_and_never_two(world, provider: str) -> None:  # type: ignore[no-untyped-def]
    (ledger, _, sim, _), base = world
    cfg, gw = gateway(world[0], provider)
    prepare(world[0], cfg, "P0005", "P0006")
    assert send(ledger, gw) == {"sent": 2}
    pushed_id, pulled_id = sorted(outbox(ledger))
    assert sim.push(provider, push_url(base, provider), out_ids=[pushed_id])["status"] == 200
    assert collect(ledger, gw) == {"delivered": 1}  # only the message no push settled is asked
    by_message = {r[0]: r[1:] for r in receipt_rows(ledger)}
    pushed, pulled = by_message[pushed_id], by_message[pulled_id]
    # outcome, code, gateway, attempt number: the same; each with its message's provider id
    assert pushed[:4] == pulled[:4] and pushed[0] == "delivered" and pushed[2] == provider
    ids = {m["out_id"]: m["provider_id"] for m in sim.messages()}
    assert (pushed[4], pulled[4]) == (ids[pushed_id], ids[pulled_id])

    # the pulled message's report pushed later is a duplicate: no second row, no second count
    assert sim.push(provider, push_url(base, provider))["status"] == 200
    assert len(receipt_rows(ledger)) == 2
    states = {
        r.message_id: r.state for r in q(ledger, "SELECT message_id, state FROM pushed_report")
    }
    assert states == {pushed_id: "applied", pulled_id: "duplicate"}
    (day,) = q(ledger, "SELECT reported_delivered FROM v_delivery_daily")
    assert day.reported_delivered == 2


@pytest.mark.mariadb
def test_the_receiver_hears_only_its_provider(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ledger, _, sim, _ = setup
    receiver_connections(monkeypatch, sim)
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_RECEIPTS_ELSEWHERE",
        json.dumps(
            {
                "conn_type": "generic",
                "password": TOKEN,
                "extra": {"provider": "aliyun", "allow": ["10.0.0.0/8"]},
            }
        ),
    )
    cfg, gw = gateway(setup, "aliyun")
    prepare(setup, cfg, "P0007")
    send(ledger, gw)
    with serving(ledger) as base:
        assert (
            sim.push("aliyun", push_url(base, "aliyun", token="wrong-token-000000000000"))["status"]
            == 403
        )
        assert sim.push("aliyun", push_url(base, "aliyun", token=None))["status"] == 403
        assert (
            sim.push("aliyun", push_url(base, "elsewhere"))["status"] == 403
        )  # 127.0.0.1 not allowed
        assert sim.push("aliyun", push_url(base, "nobody"))["status"] == 404
        # Alibaba's format sent to the Tencent receiver: refused with what is wrong, nothing kept
        wrong = sim.push("aliyun", push_url(base, "tencent"))
        assert wrong["status"] == 400 and "report_status" in wrong["reply"]["detail"]
        # a signed callback whose body was changed on the way
        bad = requests.post(
            f"{base}/v1/reports/generic",
            data=b'{"reports": []}',
            timeout=10,
            headers={
                "X-App-Id": sim.credentials.generic_app_id,
                "X-Timestamp": "1",
                "X-Nonce": "n",
                "X-Signature": "0",
            },
        )
        assert bad.status_code == 403
        assert q(ledger, "SELECT id FROM pushed_report") == []
        assert list(outbox(ledger).values()) == ["sent"]
        assert sim.push("aliyun", push_url(base, "aliyun"))["status"] == 200
        assert list(outbox(ledger).values()) == ["delivered"]


def worked_example() -> str:
    text = (ROOT / "docs" / "pushed-reports.md").read_text(encoding="utf-8")
    (body,) = re.findall(r"```bash\n# worked example: push\n(.*?)```", text, flags=re.DOTALL)
    return body


@pytest.mark.mariadb
def test_the_documented_worked_example_runs_as_written(world, tmp_path) -> None:  # type: ignore[no-untyped-def]
    (ledger, _, sim, _), base = world
    cfg, gw = gateway(world[0], "aliyun")
    prepare(world[0], cfg, "P0008")
    send(ledger, gw)
    (message,) = sim.messages()
    env = {
        "PATH": "/usr/bin:/bin",
        "RECEIPTS": base,
        "TOKEN": TOKEN,
        "OUT_ID": message["out_id"],
        "BIZ_ID": message["provider_id"],
    }
    run = subprocess.run(
        ["bash", "-c", "set -euo pipefail\n" + worked_example()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, (run.stdout[-2000:], run.stderr[-2000:])
    assert run.stdout.count('"code":0') == 2, run.stdout
    assert list(outbox(ledger).values()) == ["delivered"]
    assert len(receipt_rows(ledger)) == 1


@pytest.mark.mariadb
def test_a_report_whose_message_never_comes_is_kept_as_unmatched(setup) -> None:  # type: ignore[no-untyped-def]
    import datetime as dt

    from licence_reminder import pushed

    ledger = setup[0]
    report = pushed.Report("aliyun", "f" * 32, "900^1", True, "DELIVERED", "138****0009", None)
    received = dt.datetime(2026, 11, 24, 9, 0)
    assert pushed.store(ledger, "aliyun", [report, report], now=received) == {
        "new": 1,
        "repeated": 1,
    }
    assert pushed.apply(ledger, run_id="r1", now=received + dt.timedelta(days=2)) == {"pending": 1}
    assert pushed.apply(ledger, run_id="r1", now=received + dt.timedelta(days=4)) == {
        "unmatched": 1
    }
    assert pushed.apply(ledger, run_id="r1", now=received + dt.timedelta(days=5)) == {}
    (kept,) = q(ledger, "SELECT state, recipient_masked FROM pushed_report")
    assert tuple(kept) == ("unmatched", "138****0009")
    assert q(ledger, "SELECT id FROM delivery_attempt") == []


class NoRecordYet:
    """A provider whose look-up has not caught up with its own push: "no such message"."""

    def __init__(self, gw) -> None:  # type: ignore[no-untyped-def]
        self.gw = gw

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.gw, name)

    def lookup(self, message, sent_on):  # type: ignore[no-untyped-def]
        from licence_reminder.gateways.base import LookupResult

        return LookupResult(found=False)


@pytest.mark.mariadb
def test_a_pushed_report_outweighs_a_look_up_that_finds_nothing(world) -> None:  # type: ignore[no-untyped-def]
    (ledger, _, sim, _), base = world
    cfg, gw = gateway(world[0], "aliyun")
    prepare(world[0], cfg, "P0009")
    sim.set_faults(
        [{"fault": "timeout", "times": 1}, {"on": "query", "fault": "throttled", "times": 1}],
        timeout_seconds=2.5,
    )
    assert send(ledger, gw).get("lookup_failed") == 1
    assert sim.push("aliyun", push_url(base, "aliyun"))["status"] == 200

    # sending it again on the look-up's word would be a second SMS: the push proves it went
    assert send(ledger, NoRecordYet(gw)) == {"recovered_sent": 1}
    assert len(sim.messages()) == 1
    assert collect(ledger, gw) == {"pushed_delivered": 1}
    assert list(outbox(ledger).values()) == ["delivered"]
