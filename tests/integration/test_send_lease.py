"""A zombie sender cannot double-send (issue 20, item 9; docs/adr/0201-send-shard-lease.md).

Killing only a Celery worker's main process leaves its task process sending its shard, while
Airflow retries the task elsewhere. Here two senders share one shard of a real ledger (MariaDB and
SQLite) and a slow simulator: the first is taken over mid-batch (still running, or killed in the
middle of a call), and every message must reach the simulator exactly once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import dispatch
from licence_reminder.db import sql
from licence_reminder.gateways.factory import GatewayConfig, gateway_from_config

ROOT = Path(__file__).resolve().parents[2]
#: the gateway's read timeout in these tests: a takeover waits connect + this + the margin
TIMEOUT = 2.0


@pytest.fixture(params=["mariadb", "sqlite"])
def world(request, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread

    url = (
        request.getfixturevalue("mariadb_factory")()
        if request.param == "mariadb"
        else f"sqlite:///{tmp_path}/ledger.db"
    )
    ledger = engine_from_url(url)
    schema.upgrade(ledger)
    sim = start_in_thread()
    gateways: list[Any] = []

    def gateway():  # type: ignore[no-untyped-def]
        conn = sim.connection("aliyun")
        cfg = GatewayConfig.from_connection(
            SimpleNamespace(
                conn_id="sms_gateway",
                login=conn["login"],
                password=conn["password"],
                extra_dejson={**conn["extra"], "timeout": TIMEOUT},
                host=None,
                port=None,
                schema=None,
            )
        )
        gw = gateway_from_config(cfg)
        gateways.append(gw)
        return gw

    yield SimpleNamespace(url=url, ledger=ledger, sim=sim, gateway=gateway)
    for gw in gateways:
        gw.close()
    sim.stop()
    ledger.dispose()


def queue(ledger: sa.Engine, n: int) -> list[str]:
    """N rendered messages in shard 0, as render_outbox writes them."""
    now = dispatch.local_now()
    rows = []
    for i in range(n):
        body = f"尊敬的张三：您的食品经营许可证将于30天后到期。{i}"
        rows.append(
            {
                "id": uuid.uuid4().hex,
                "dept_code": "scjgj",
                "channel": "sms",
                "gateway": "aliyun",
                "gateway_conn_id": "sms_gateway",
                "recipient": f"1390000{i:04d}",
                "recipient_masked": f"139****{i:04d}",
                "template_name": "sms_stage1",
                "template_code": "SMS_DEMO_STAGE1",
                "params": json.dumps({"name": "张三", "n": str(i)}),
                "body": body,
                "body_sha256": hashlib.sha256(body.encode()).hexdigest(),
                "body_length": len(body),
                "segments": 1,
                "shard": 0,
                "status": "pending",
                "attempts": 0,
                "run_id": "d1",
                "now": now,
            }
        )
    with ledger.begin() as conn:
        conn.execute(sql("outbox_insert", conn), rows)
    return [r["id"] for r in rows]


def q(ledger: sa.Engine, query: str) -> list[sa.Row]:
    with ledger.connect() as conn:
        return list(conn.execute(sa.text(query)))


def wait_for(predicate, seconds: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def assert_each_sent_once(world: SimpleNamespace, ids: list[str]) -> None:
    out_ids = [m["out_id"] for m in world.sim.messages()]
    assert sorted(out_ids) == sorted(ids)  # every message reached the provider, none twice
    rows = q(world.ledger, "SELECT id, status, provider_message_id FROM outbox_message")
    assert {r.status for r in rows} == {"sent"}
    assert sorted(r.provider_message_id for r in rows) == sorted(
        m["provider_id"] for m in world.sim.messages()
    )
    accepted = [
        r.message_id
        for r in q(
            world.ledger,
            "SELECT message_id FROM delivery_attempt WHERE outcome IN ('accepted', 'recovered')",
        )
    ]
    assert sorted(accepted) == sorted(ids)  # one audit row per message settles it


@pytest.mark.mariadb
def test_an_orphan_still_sending_stops_when_the_retry_takes_the_shard_over(world) -> None:  # type: ignore[no-untyped-def]
    """The orphan goes on through its claimed batch; the retry takes the shard over mid-batch.
    Without the lease the retry looked the orphan's unsent claimed messages up, found nothing,
    and sent them while the orphan sent them too."""
    ids = queue(world.ledger, 12)
    world.sim.set_faults([], delay_seconds=0.3)
    orphan: dict[str, Any] = {}

    def run_orphan() -> None:
        try:
            orphan["out"] = dispatch.send_shard(
                world.ledger,
                lambda _: gw_orphan,
                shard=0,
                run_id="dispatch:try1",
                max_wait_seconds=0,
            )
        except Exception as exc:  # noqa: BLE001 - the test asserts what it was
            orphan["error"] = exc

    gw_orphan = world.gateway()
    thread = threading.Thread(target=run_orphan)
    thread.start()
    wait_for(lambda: len(world.sim.messages()) >= 3)
    started = time.monotonic()
    out = dispatch.send_shard(
        world.ledger, lambda _: world.gateway(), shard=0, run_id="dispatch:try2", max_wait_seconds=0
    )
    took = time.monotonic() - started
    thread.join(timeout=30)

    assert isinstance(orphan.get("error"), dispatch.SenderSuperseded), orphan
    assert "dispatch:try2" in str(orphan["error"]) and "went back to pending" in str(
        orphan["error"]
    )
    # it waited out the orphan's call in flight before taking anything over
    assert took >= TIMEOUT + dispatch.LEASE_CHECK_SECONDS + dispatch.TAKEOVER_MARGIN
    assert 0 < out["sent"] < 12
    assert_each_sent_once(world, ids)
    (lease,) = q(world.ledger, "SELECT epoch, holder, released_at FROM send_lease WHERE shard = 0")
    assert (
        lease.epoch == 2
        and lease.holder.startswith("dispatch:try2")
        and lease.released_at is not None
    )


ORPHAN = """
import json, sys
from types import SimpleNamespace
from licence_reminder import dispatch
from licence_reminder.db import engine_from_url
from licence_reminder.gateways.factory import GatewayConfig, gateway_from_config
url, conn = sys.argv[1], json.loads(sys.argv[2])
cfg = GatewayConfig.from_connection(SimpleNamespace(conn_id="sms_gateway", login=conn["login"],
    password=conn["password"], extra_dejson=conn["extra"], host=None, port=None, schema=None))
dispatch.send_shard(engine_from_url(url), lambda _: gateway_from_config(cfg), shard=0,
                    run_id="dispatch:try1", max_wait_seconds=0)
"""


@pytest.mark.mariadb
def test_a_sender_killed_during_a_slow_call_is_waited_out_before_its_messages_are_looked_up(
    world,
) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL while a call is in flight: the provider takes the message only as the call ends.
    A lookup before then finds nothing, and the message went out twice."""
    ids = queue(world.ledger, 5)
    world.sim.set_faults([], delay_seconds=1.5)
    conn = world.sim.connection("aliyun")
    conn["extra"]["timeout"] = TIMEOUT
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    proc = subprocess.Popen([sys.executable, "-c", ORPHAN, world.url, json.dumps(conn)], env=env)
    try:
        wait_for(lambda: len(world.sim.messages()) >= 1)
        time.sleep(0.5)  # the second call is in flight, a second from being taken
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert len(world.sim.messages()) == 1
    world.sim.set_faults([], delay_seconds=0)  # the call in flight keeps its delay

    out = dispatch.send_shard(
        world.ledger, lambda _: world.gateway(), shard=0, run_id="dispatch:try2", max_wait_seconds=0
    )
    # the call in flight was taken after the kill, and found by the lookup: not sent again
    assert out["recovered_sent"] == 2 and out["recovered_pending"] == 3 and out["sent"] == 3
    assert_each_sent_once(world, ids)


@pytest.mark.mariadb
def test_a_taken_over_senders_late_outcomes_change_nothing_the_new_holder_owns(world) -> None:  # type: ignore[no-untyped-def]
    (mid,) = queue(world.ledger, 1)
    old = dispatch.ShardLease.take(world.ledger, 0, run_id="dispatch:try1")
    with world.ledger.begin() as conn:  # the old holder's claim
        conn.execute(
            sa.text("UPDATE outbox_message SET status = 'sending', attempts = 1, claim_epoch = :e"),
            {"e": old.epoch},
        )
    new = dispatch.ShardLease.take(world.ledger, 0, run_id="dispatch:try2")
    with pytest.raises(
        dispatch.SenderSuperseded, match=r"taken over by another sender \(dispatch:try2"
    ):
        old.check()
    with world.ledger.begin() as conn, pytest.raises(dispatch.SenderSuperseded):
        old.hold(conn)  # it cannot claim any more either
    with (
        world.ledger.begin() as conn
    ):  # the new holder settled it (looked up: not found) and claimed it
        conn.execute(
            sa.text("UPDATE outbox_message SET status = 'sending', attempts = 2, claim_epoch = :e"),
            {"e": new.epoch},
        )

    row = q(
        world.ledger,
        "SELECT id, dept_code, recipient_masked, body_sha256, attempts FROM outbox_message",
    )[0]
    book = dispatch._Book()
    result = SimpleNamespace(code="HTTP_500", message="", provider_message_id=None)
    dispatch._record(
        book,
        row,
        status="pending",
        kind="send",
        outcome="transient",
        result=result,
        started=dispatch.local_now(),
        run_id="dispatch:try1",
        gateway="aliyun",
        epoch=old.epoch,
        next_at=dispatch.local_now() + dt.timedelta(seconds=2),
    )
    book.flush(world.ledger)
    (m,) = q(world.ledger, "SELECT id, status, claim_epoch FROM outbox_message")
    assert (m.id, m.status, m.claim_epoch) == (mid, "sending", new.epoch)  # untouched
    # what the old sender did is still audited: the append-only record of every call
    assert [
        (a.kind, a.run_id) for a in q(world.ledger, "SELECT kind, run_id FROM delivery_attempt")
    ] == [("send", "dispatch:try1")]
    old.release()  # matches nothing: the lease is the new holder's
    new.release()
    (lease,) = q(world.ledger, "SELECT epoch, released_at FROM send_lease")
    assert lease.epoch == new.epoch and lease.released_at is not None
