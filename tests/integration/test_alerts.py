"""Alerts arrive at a loopback SMTP server and a loopback DingTalk-style robot (which checks each
call's signature), once per incident however many retries and runs find it; a department whose
data is too old is held from dispatch, its reminders planned, until it syncs or is released.

On real MariaDB and on SQLite (the ``engines`` and ``setup`` fixtures run both)."""

from __future__ import annotations

import datetime as dt
import json
import os
import time

import pytest
import sqlalchemy as sa
from licence_reminder import alerts, dispatch, sync
from licence_reminder.config import Settings, local_now
from licence_reminder.sync import plan as planning
from support.alert_sinks import EMAIL_TO, ROBOT_SECRET
from support.dispatch_world import gateway, prepare, send
from support.ledger_world import (
    CATALOGUE,
    DEPT,
    PERSON_ID,
    TODAY,
    fail_before,
    licence,
    put,
    q,
    run_sync,
)


def failed_sync(ledger: sa.Engine, source: sa.Engine, run_id: str) -> None:
    """A sync that fails inside its merge, recorded as the sync task records it."""
    with pytest.MonkeyPatch.context() as mp:
        fail_before(mp, "sync_run_finish")
        plan = planning.start_run(ledger, DEPT, run_id=run_id, logical_date=TODAY, force_full=True)
        with pytest.raises(Exception, match="injected failure"):
            sync.run(ledger, source, DEPT, CATALOGUE, plan, today=TODAY)
        planning.fail_run(ledger, run_id, "injected failure before sync_run_finish")


def personal_data_free(*texts: str) -> None:
    for text in texts:
        for value in (PERSON_ID, "张三", "安阳市某某食品有限公司", "1380000"):
            assert value not in text


def ledger_url(ledger: sa.Engine) -> str:
    return ledger.url.render_as_string(hide_password=False)


@pytest.mark.mariadb
def test_a_failed_sync_is_alerted_once_by_mail_and_robot_until_a_good_sync_clears_it(
    engines, alert_sinks, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from conftest import airflow_conn_json
    from licence_reminder import tasks

    ledger, source = engines
    settings = Settings.from_env()
    put(source, licence("A0001", 30))
    run_sync(ledger, source)
    failed_sync(ledger, source, "testdept:broken-1")

    found = tasks.review_alerts(ledger, settings)
    assert list(found.sync_failed) == ["testdept"] and found.held == {}
    assert alert_sinks.count() == (1, 1)
    ((sender, rcpts, mail),) = alert_sinks.mail.received
    assert rcpts == list(EMAIL_TO) and "licence-reminder@example.gov.cn" in sender
    assert alert_sinks.mail.subjects() == [f"[{alerts.PRODUCT}] department testdept: sync failed"]
    body = (
        mail.get_payload(decode=True).decode()
        if not mail.is_multipart()
        else mail.get_payload()[0].get_payload(decode=True).decode()
    )
    assert "testdept:broken-1" in body and "injected failure before sync_run_finish" in body
    (robot,) = alert_sinks.robot.received
    assert robot["msgtype"] == "markdown" and "sync failed" in robot["markdown"]["title"]
    personal_data_free(body, json.dumps(robot, ensure_ascii=False))

    # the task's retries, its failure callback and the next runs find the same incident: no more
    tasks.review_alerts(ledger, settings)
    failed_sync(ledger, source, "testdept:broken-2")
    tasks.review_alerts(ledger, settings)
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url(ledger)))
    tasks.alert_sync_failed("testdept", {"run_id": "scheduled__x", "exception": RuntimeError("x")})
    assert alert_sinks.count() == (1, 1)

    run_sync(ledger, source)  # a good sync resolves it; failing again is a new incident
    assert "sync_failed:testdept" in alerts.review(ledger, settings).resolved
    failed_sync(ledger, source, "testdept:broken-3")
    tasks.review_alerts(ledger, settings)
    assert alert_sinks.count() == (2, 2)
    assert [
        r.incident_key
        for r in q(ledger, "SELECT incident_key FROM alert WHERE sent_at IS NOT NULL")
    ] == ["sync_failed:testdept", "sync_failed:testdept"]


@pytest.mark.mariadb
def test_a_department_whose_data_is_too_old_is_held_until_released_or_synced(
    setup, alert_sinks, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli, tasks

    ledger, source, _, _ = setup
    settings = Settings.from_env()
    cfg, _ = gateway(setup, "aliyun")
    profile = dispatch.GatewayProfile.of(cfg)
    prepare(setup, cfg, "H0001")  # synced, planned and rendered today: one message
    put(source, licence("H0002", 30))
    run_sync(ledger, source, full=True)
    later = local_now() + settings.max_data_age + dt.timedelta(hours=1)

    found = alerts.review(ledger, settings, now=later)
    alerts.deliver(ledger, settings)
    assert list(found.held) == ["testdept"] and "data older than 26 h" in found.held["testdept"]
    dispatch.plan(ledger, today=TODAY, run_id="d2")
    assert (
        dispatch.render_outbox(ledger, today=TODAY, run_id="d2", profile_for=lambda _: profile)[
            "messages"
        ]
        == 0
    )
    assert {
        (r.licence_no, r.status) for r in q(ledger, "SELECT licence_no, status FROM reminder")
    } == {("H0001", "queued"), ("H0002", "planned")}  # the hold keeps H0002's reminder planned
    assert tasks._stale_holds(ledger) == {
        "held": {"testdept (stale data)": found.held["testdept"]},
        "reminders_held": 1,
    }
    assert alert_sinks.count() == (1, 1)
    assert alert_sinks.mail.subjects() == [
        f"[{alerts.PRODUCT}] department testdept: data stale, held"
    ]
    assert "hold release testdept" in alert_sinks.robot.received[0]["markdown"]["text"]

    (row,) = cli.department_summary(ledger)  # the summary shows it
    assert row["hold"]["reason"] == found.held["testdept"]
    url = ledger_url(ledger)
    assert cli.main(["summary", "--url", url]) == 0
    assert "HELD" in capsys.readouterr().out

    alerts.review(ledger, settings, now=later)  # the next runs: held still, nothing sent again
    assert alert_sinks.count() == (1, 1)

    assert (
        cli.main(
            [
                "hold",
                "release",
                "testdept",
                "--note",
                "source down for planned work",
                "--by",
                "ops:li",
                "--url",
                url,
            ]
        )
        == 0
    )
    assert cli.main(["hold", "release", "testdept", "--note", "again", "--url", url]) == 1
    assert alerts.review(ledger, settings, now=later).held == {}  # released on this data: not again
    assert (
        dispatch.render_outbox(ledger, today=TODAY, run_id="d3", profile_for=lambda _: profile)[
            "messages"
        ]
        == 1
    )
    capsys.readouterr()
    assert cli.main(["hold", "list", "--all", "--url", url]) == 0
    assert "released by ops:li: source down for planned work" in capsys.readouterr().out

    # a hold is released on the data "as of" the last good sync's finish, kept to the second: a
    # sync in the same second as the released one would count as the same data
    time.sleep(1.1)
    run_sync(ledger, source)  # synced: the stale alert resolves; stale again later: held again
    assert "data_stale:testdept" in alerts.review(ledger, settings).resolved
    again = alerts.review(
        ledger, settings, now=local_now() + settings.max_data_age + dt.timedelta(hours=2)
    )
    assert list(again.held) == ["testdept"]
    alerts.deliver(ledger, settings)
    assert alert_sinks.count() == (2, 2)
    assert [(h["ended_how"], h["released_by"]) for h in alerts.holds(ledger, all_holds=True)] == [
        (None, None),
        ("released", "ops:li"),
    ]


@pytest.mark.mariadb
def test_a_gateway_refusing_the_account_is_alerted_once_and_cleared_when_it_sends(
    setup, alert_sinks
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.errors import PermanentError

    ledger, _, _, _ = setup
    settings = Settings.from_env()
    cfg, wrong = gateway(setup, "aliyun", password="not-the-secret")
    prepare(setup, cfg, "R0001", "R0002")
    for _ in range(2):  # the task's retry is refused again
        with pytest.raises(PermanentError, match="refused the account"):
            send(ledger, wrong)
        found = alerts.review(ledger, settings)
        alerts.deliver(ledger, settings)
    assert list(found.gateway_refused) == ["sms_aliyun"]
    assert alert_sinks.count() == (1, 1)
    assert alert_sinks.robot.titles() == [
        f"[{alerts.PRODUCT}] SMS gateway sms_aliyun: account refused"
    ]
    assert "2 message(s) wait" in alert_sinks.robot.received[0]["markdown"]["text"]

    _, fixed = gateway(setup, "aliyun")
    assert send(ledger, fixed) == {"sent": 2}
    assert alerts.review(ledger, settings).resolved == ["gateway_refused:sms_aliyun"]


@pytest.mark.mariadb
def test_a_dispatch_outside_the_sending_hours_fails_and_is_alerted_once(
    setup, alert_sinks, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from airflow.sdk.exceptions import AirflowFailException
    from conftest import airflow_conn_json
    from licence_reminder import tasks

    ledger, _, sim, _ = setup
    cfg, _ = gateway(setup, "aliyun")
    prepare(setup, cfg, "W0001")
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url(ledger)))
    monkeypatch.setenv("LR_SENDING_HOURS", "0-0")
    for _ in range(2):  # a second shard, or the run again
        with pytest.raises(
            AirflowFailException, match=r"outside the sending hours .*1 message\(s\) stay queued"
        ):
            tasks.dispatch_send(shard=0, run_id="d1")
    assert sim.messages() == []
    assert alert_sinks.count() == (1, 1)
    (title,) = alert_sinks.mail.subjects()
    assert (
        title
        == f"[{alerts.PRODUCT}] dispatch of {local_now().date()}: nothing sent, outside the sending hours"
    )
    assert "1 message(s) stay queued" in alert_sinks.robot.received[0]["markdown"]["text"]


@pytest.mark.mariadb
def test_a_sync_that_failed_before_the_ledger_knew_its_department_is_alerted_from_its_error(
    engines, alert_sinks, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from conftest import airflow_conn_json
    from licence_reminder import tasks
    from licence_reminder.errors import PermanentError

    ledger, _ = engines
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url(ledger)))
    error = PermanentError("newdept.yaml: source.conn_id: field required")
    for _ in range(2):  # failed again tomorrow, before any sync of it committed
        tasks.alert_sync_failed("newdept", {"run_id": "scheduled__1", "exception": error})
        tasks.review_alerts(ledger, Settings.from_env())
    # (testdept, registered and never synced, is alerted as stale beside it)
    assert (
        alert_sinks.mail.subjects().count(f"[{alerts.PRODUCT}] department newdept: sync failed")
        == 1
    )
    (robot,) = [b for b in alert_sinks.robot.received if "newdept" in b["markdown"]["title"]]
    assert "newdept.yaml: source.conn_id: field required" in robot["markdown"]["text"]


class Runs:
    """What the check asks of Airflow (the task instance's ``get_dr_count``): these runs exist."""

    def __init__(self, *runs: tuple[dt.datetime, str]) -> None:
        self.runs, self.asked = runs, []

    def get_dr_count(
        self, *, dag_id: str, logical_dates: list[dt.datetime], states: list[str] | None = None
    ) -> int:
        self.asked.append((dag_id, logical_dates, states))
        return sum(
            1
            for at, state in self.runs
            if at in logical_dates and (states is None or state in states)
        )


@pytest.mark.mariadb
def test_a_dispatch_not_finished_by_the_deadline_is_alerted_once_per_day(
    engines, alert_sinks, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from conftest import airflow_conn_json
    from licence_reminder import tasks

    ledger, _ = engines
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(ledger_url(ledger)))
    monkeypatch.setenv("LR_DISPATCH_DEADLINE", "11:30")
    nine = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)  # 09:00 in Anyang
    finished = Runs((nine, "success"))
    assert tasks.check_dispatch_finished(day="2026-11-24", schedule="0 9 * * *", runs=finished) == {
        "scheduled": 1,
        "succeeded": 1,
    }
    assert finished.asked == [("dispatch_reminders", [nine], ["success"])]
    assert alert_sinks.count() == (0, 0)

    for _ in range(2):  # the check's retry, or a second look
        tasks.check_dispatch_finished(
            day="2026-11-24", schedule="0 9 * * *", runs=Runs((nine, "running"))
        )
    assert alert_sinks.count() == (1, 1)
    assert alert_sinks.mail.subjects() == [
        f"[{alerts.PRODUCT}] dispatch of 2026-11-24 not finished by 11:30"
    ]
    assert (
        "(scheduled at 09:00) had not finished successfully by 11:30 (LR_DISPATCH_DEADLINE): it still "
        "running or failed" in alert_sinks.robot.received[0]["markdown"]["text"]
    )
    tasks.check_dispatch_finished(day="2026-11-25", schedule="0 9 * * *", runs=Runs())
    assert alert_sinks.count() == (2, 2)
    assert "never started (is the DAG paused?)" in alert_sinks.robot.received[1]["markdown"]["text"]


@pytest.mark.mariadb
def test_a_robot_that_refuses_the_signature_gets_the_alert_later_and_the_mail_goes_once(
    engines, alert_sinks, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    ledger, _ = engines
    settings = Settings.from_env()
    conn = json.loads(os.environ["AIRFLOW_CONN_LR_ALERT_ROBOT"])
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_ALERT_ROBOT", json.dumps({**conn, "password": "SECnot-the-secret"})
    )
    alerts.open_incident(
        ledger,
        alerts.dispatch_late(
            "2026-11-24", settings.dispatch_deadline, runs="09:00", state="still running or failed"
        ),
    )
    failed = alerts.deliver(ledger, settings)
    assert [(key, where) for key, where, _ in failed.failed] == [
        ("dispatch_late:2026-11-24", "robot:lr_alert_robot")
    ]
    assert "310000" in failed.failed[0][2] and ROBOT_SECRET not in failed.failed[0][2]
    assert alert_sinks.count() == (1, 0) and alert_sinks.robot.refused == ["sign"]

    monkeypatch.setenv("AIRFLOW_CONN_LR_ALERT_ROBOT", json.dumps(conn))
    assert alerts.deliver(ledger, settings).sent == ["dispatch_late:2026-11-24"]
    assert alerts.deliver(ledger, settings).sent == []
    assert alert_sinks.count() == (1, 1)
