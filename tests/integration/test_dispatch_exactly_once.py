"""Exactly once against real MariaDB and the simulator: crash recovery, permanent and transient errors."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from licence_reminder import dispatch
from licence_reminder.gateways.aliyun import AliyunSms
from test_ledger_semantics import DEPT, TODAY, licence, put, q, run_sync  # noqa: F401


@pytest.fixture(params=["mariadb", "sqlite"])
def setup(request, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema, sync
    from licence_reminder.db import engine_from_url
    from licence_reminder.simulator.server import start_in_thread
    from test_ledger_semantics import CATALOGUE

    if request.param == "mariadb":  # the outcome batches are dialect-specific SQL: both run
        factory = request.getfixturevalue("mariadb_factory")
        ledger, source = engine_from_url(factory()), engine_from_url(factory())
    else:
        ledger, source = engine_from_url(f"sqlite:///{tmp_path}/ledger.db"), engine_from_url(f"sqlite:///{tmp_path}/src.db")
    schema.upgrade(ledger)
    meta = sa.MetaData()
    sa.Table("lic", meta, *(sa.Column(c, sa.Date() if c in {"issue_date", "expiry_date", "renewal_applied_on"}
                                      else sa.DateTime() if c == "source_updated_at" else sa.String(200))
                            for c in licence("x0000", 1)))
    meta.create_all(source)
    sync.register_department(ledger, DEPT, CATALOGUE)
    sim = start_in_thread()
    gw = AliyunSms(endpoint=f"{sim.url}/aliyun/", access_key_id="sim-aliyun-key",
                   access_key_secret="sim-aliyun-secret", sign_name="安阳市政务服务", timeout=1.0)
    yield ledger, source, sim, gw
    gw.close()
    sim.stop()
    ledger.dispose()
    source.dispose()


def prepare(ledger, source, *nos: str) -> None:  # type: ignore[no-untyped-def]
    put(source, *(licence(no, 30) for no in nos))
    run_sync(ledger, source)
    dispatch.plan(ledger, today=TODAY, run_id="d1")
    profile = dispatch.GatewayProfile(conn_id="sms_gateway", provider="aliyun", sign_name="安阳市政务服务",
                                      templates={"sms_stage1": "SMS_1", "sms_stage2": "SMS_2"})
    dispatch.render_outbox(ledger, today=TODAY, run_id="d1", profile_for=lambda _: profile)


def send(ledger, gw, **kw) -> dict:  # type: ignore[no-untyped-def]
    return dispatch.send_shard(ledger, lambda _: gw, shard=0, run_id="d1", max_wait_seconds=kw.pop("wait", 0), **kw)


@pytest.mark.mariadb
def test_crash_between_call_and_record_does_not_send_twice(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = setup
    prepare(ledger, source, "H0001", "H0002", "H0003")
    with pytest.raises(dispatch.SimulatedCrash):
        send(ledger, gw, crash_after_call=2)
    assert len(sim.messages()) == 2
    statuses = sorted(r.status for r in q(ledger, "SELECT status FROM outbox_message"))
    assert statuses == ["sending", "sending", "sending"]  # claimed, outcome never recorded
    out = send(ledger, gw)  # the retry of the task: recovery asks the provider first
    assert out.get("recovered_sent") == 2 and out.get("recovered_pending") == 1 and out.get("sent") == 1
    assert len(sim.messages()) == 3
    assert sorted(m["out_id"] for m in sim.messages()) == sorted(r.id for r in q(ledger, "SELECT id FROM outbox_message"))
    assert {r.status for r in q(ledger, "SELECT status FROM reminder")} == {"sent"}
    recorded = q(ledger, "SELECT provider_message_id, sent_at FROM outbox_message")
    assert sorted(r.provider_message_id for r in recorded) == sorted(m["provider_id"] for m in sim.messages())
    assert all(r.sent_at is not None for r in recorded)
    send(ledger, gw)
    assert len(sim.messages()) == 3


@pytest.mark.mariadb
def test_permanent_error_not_retried_lands_on_call_list(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = setup
    prepare(ledger, source, "J0001")
    sim.set_faults([{"fault": "invalid_number"}])
    out = send(ledger, gw, wait=2)
    assert out == {"call_list": 1}
    (m,) = q(ledger, "SELECT status, attempts, last_code FROM outbox_message")
    assert (m.status, m.attempts, m.last_code) == ("call_list", 1, "isv.MOBILE_NUMBER_ILLEGAL")
    assert q(ledger, "SELECT status FROM reminder")[0].status == "call_list"
    assert len(q(ledger, "SELECT * FROM delivery_attempt")) == 1


@pytest.mark.mariadb
def test_transient_error_retried_and_delivered(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = setup
    prepare(ledger, source, "K0001")
    sim.set_faults([{"fault": "http_500", "times": 1}])
    out = send(ledger, gw, wait=10)
    assert out.get("sent") == 1 and out.get("retry_scheduled") == 1
    outcomes = [r.outcome for r in q(ledger, "SELECT outcome FROM delivery_attempt ORDER BY id")]
    assert outcomes == ["transient", "accepted"]
    assert len(sim.messages()) == 1


@pytest.mark.mariadb
def test_timeout_after_send_is_looked_up_not_resent(setup) -> None:  # type: ignore[no-untyped-def]
    ledger, source, sim, gw = setup
    prepare(ledger, source, "L0001")
    sim.set_faults([{"fault": "timeout", "times": 1}], timeout_seconds=2.5)
    out = send(ledger, gw)
    assert out.get("recovered_sent") == 1
    assert len(sim.messages()) == 1
    kinds = [(r.kind, r.outcome) for r in q(ledger, "SELECT kind, outcome FROM delivery_attempt ORDER BY id")]
    assert kinds == [("send", "transient"), ("lookup", "recovered")]


@pytest.mark.mariadb
def test_failed_outcome_write_stops_sender_and_is_recovered_by_lookup(setup, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # outcomes are written on a second thread while the next batch goes out: a write that fails
    # must stop the sender, and the next run must look its messages up, not send them again
    ledger, source, sim, gw = setup
    prepare(ledger, source, "M0001", "M0002", "M0003", "M0004", "M0005")
    monkeypatch.setattr(dispatch, "BOOKKEEPING_BATCH", 2)
    real_flush, failed = dispatch._Book.flush, []

    def flush_failing_once(book: dispatch._Book, engine) -> None:  # type: ignore[no-untyped-def]
        if book.outbox and not failed:
            failed.append(True)
            raise RuntimeError("ledger write failed")
        real_flush(book, engine)

    monkeypatch.setattr(dispatch._Book, "flush", flush_failing_once)
    with pytest.raises(RuntimeError, match="ledger write failed"):
        send(ledger, gw)
    assert len(sim.messages()) == 4  # the batch whose write failed and the one in flight
    assert sorted(r.status for r in q(ledger, "SELECT status FROM outbox_message")) == ["pending"] + ["sending"] * 4
    out = send(ledger, gw)
    assert out.get("recovered_sent") == 4 and out.get("sent") == 1
    assert sorted(m["out_id"] for m in sim.messages()) == sorted(r.id for r in q(ledger, "SELECT id FROM outbox_message"))
