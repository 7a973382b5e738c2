"""One department's outage fails only its own DAG; the others and the dispatch still run.

Bad SQL fails at once (no retry) with a message naming the department and the server's error;
a database that is down or a statement that times out is a transient error, left to the task's
retries.
"""

from __future__ import annotations

import datetime as dt
import json

import pendulum
import pytest
import sqlalchemy as sa
from conftest import ROOT, airflow_conn_json, load_dags

TODAY = dt.date(2026, 11, 24)
LOGICAL = pendulum.datetime(TODAY.year, TODAY.month, TODAY.day, 9, tz="Asia/Shanghai")
REGISTRY = ROOT / "include" / "registry" / "departments"


def _state(run) -> str:  # type: ignore[no-untyped-def]
    return str(run.state).rsplit(".", 1)[-1].lower()


@pytest.mark.mariadb
@pytest.mark.airflow
def test_bad_sql_in_one_department_leaves_the_others_and_dispatch_running(
    daily_world, mariadb_factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    healthy = mariadb_factory()
    engine = engine_from_url(healthy)
    seed_source(engine, "jtysj", today=TODAY, n=80, seed=3)
    engine.dispose()
    monkeypatch.setenv("AIRFLOW_CONN_SRC_JTYSJ", airflow_conn_json(healthy))
    # scjgj's database exists but lacks the table its extract reads: bad SQL, never retried
    monkeypatch.setenv("AIRFLOW_CONN_SRC_SCJGJ", airflow_conn_json(mariadb_factory()))
    ledger, sim = daily_world.ledger, daily_world.sim
    dags = load_dags(REGISTRY)
    broken = dags["sync_scjgj"].test(logical_date=LOGICAL)
    assert _state(broken) == "failed"
    assert _state(dags["sync_jtysj"].test(logical_date=LOGICAL)) == "success"
    assert _state(dags["dispatch_reminders"].test(logical_date=LOGICAL)) == "success"

    with ledger.connect() as conn:
        runs = {r.dept_code: r for r in conn.execute(sa.text("SELECT * FROM sync_run"))}
        by_dept = dict(
            conn.execute(sa.text("SELECT dept_code, COUNT(*) FROM ledger GROUP BY dept_code")).all()
        )
        sent = dict(
            conn.execute(
                sa.text(
                    "SELECT dept_code, COUNT(*) FROM outbox_message WHERE status IN ('sent', 'delivered') "
                    "GROUP BY dept_code"
                )
            ).all()
        )
    assert runs["scjgj"].status == "failed"
    assert "department scjgj" in runs["scjgj"].error and "doesn't exist" in runs["scjgj"].error
    assert runs["jtysj"].status == "success"
    assert "scjgj" not in by_dept and by_dept["jtysj"] > 0
    assert sent.get("jtysj", 0) > 0 and "scjgj" not in sent
    assert len(sim.messages()) == sent["jtysj"]


def _department(**sync: object):  # type: ignore[no-untyped-def]
    from licence_reminder.registry import load_department

    dept = load_department(REGISTRY / "scjgj.yaml")
    # model_copy skips validation: a 1-second statement timeout keeps the test short
    return dept.model_copy(
        update={
            "source": dept.source.model_copy(
                update={
                    "sync": dept.source.sync.model_copy(update=sync),
                    "extract_sql": "SELECT SLEEP(3) AS licence_no",
                    "extract_sql_file": None,
                }
            )
        }
    )


@pytest.mark.mariadb
def test_statement_timeout_is_transient(mariadb_database: str) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import TransientError
    from licence_reminder.sync.extract import stream_chunks

    engine = engine_from_url(mariadb_database)
    try:
        with pytest.raises(
            TransientError,
            match=r"department scjgj.*max_statement_time.*\(source.sync.timeout_seconds is 1:",
        ):
            list(stream_chunks(engine, _department(timeout_seconds=1), watermark=None))
    finally:
        engine.dispose()


@pytest.mark.mariadb
def test_database_down_is_left_to_airflow_retries(
    monkeypatch: pytest.MonkeyPatch, ledger_sqlite
) -> None:
    from airflow.sdk.exceptions import AirflowFailException
    from licence_reminder import tasks
    from licence_reminder.errors import TransientError

    monkeypatch.setenv("LR_REGISTRY_DIR", str(REGISTRY))
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(str(ledger_sqlite.url)))
    monkeypatch.setenv(
        "AIRFLOW_CONN_SRC_SCJGJ",
        json.dumps(
            {"conn_type": "mysql", "host": "127.0.0.1", "port": 1, "login": "root", "schema": "x"}
        ),
    )
    plan = tasks.sync_start("scjgj", run_id="manual__down", logical_date=TODAY.isoformat())
    with pytest.raises(TransientError, match="department scjgj.*Can't connect") as info:
        tasks.sync_department("scjgj", plan, today=TODAY.isoformat())
    assert not isinstance(info.value, AirflowFailException)
    with ledger_sqlite.connect() as conn:
        run = conn.execute(sa.text("SELECT status, error FROM sync_run")).one()
    assert run.status == "failed" and "Can't connect" in run.error


@pytest.mark.mariadb
@pytest.mark.airflow
def test_a_department_without_a_usable_gateway_holds_only_its_own_reminders(
    daily_world, mariadb_factory, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    """Its reminders stay planned, the other department's go out, and the run fails, saying why."""
    import shutil

    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    registry = tmp_path / "departments"
    shutil.copytree(REGISTRY, registry)
    with (registry / "scjgj.yaml").open("a", encoding="utf-8") as f:
        f.write("gateway_conn_id: sms_scjgj_missing\n")
    monkeypatch.setenv("LR_CATALOGUE_DIR", str(REGISTRY.parent / "catalogues"))
    for code, seed in (("scjgj", 5), ("jtysj", 3)):
        url = mariadb_factory()
        engine = engine_from_url(url)
        seed_source(engine, code, today=TODAY, n=80, seed=seed)
        engine.dispose()
        monkeypatch.setenv(f"AIRFLOW_CONN_SRC_{code.upper()}", airflow_conn_json(url))
    dags = load_dags(registry)
    for code in ("scjgj", "jtysj"):
        assert _state(dags[f"sync_{code}"].test(logical_date=LOGICAL)) == "success"

    run = dags["dispatch_reminders"].test(logical_date=LOGICAL)

    assert _state(run) == "failed"
    states = {
        ti.task_id: str(ti.state).rsplit(".", 1)[-1].lower() for ti in run.get_task_instances()
    }
    assert states["render"] == states["receipts"] == "success" and states["held"] == "failed"
    with daily_world.ledger.connect() as conn:
        reminders = dict(
            conn.execute(
                sa.text(
                    "SELECT CONCAT(dept_code, ':', status), COUNT(*) FROM reminder GROUP BY dept_code, status"
                )
            ).all()
        )
    # held: planned, but for the licences without a usable mobile, which no gateway could text:
    # those are the call staff's today whatever the gateway
    assert reminders.get("scjgj:planned", 0) > 0 and not any(
        k.startswith("scjgj:") and k not in ("scjgj:planned", "scjgj:call_list") for k in reminders
    )
    with daily_world.ledger.connect() as conn:
        reasons = conn.execute(
            sa.text("SELECT DISTINCT reason_code FROM call_task WHERE dept_code = 'scjgj'")
        ).scalars()
        assert set(reasons) <= {"no_mobile"}
    assert reminders.get("jtysj:delivered", 0) + reminders.get("jtysj:sent", 0) > 0
