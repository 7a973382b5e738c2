"""A whole reminder cycle on MariaDB, the DAGs end to end: nobody lapses without a warning that
reached them, or a true reason why not.

An incremental department (the transport bureau's register, with its renewal applications in a
table of their own) holds five licences expiring 30 days after D0:

- A: the holder's credit code has a wrong check character — loaded with a warning, texted at 30
  and at 7 days, and flagged to the DBA;
- B: a 10-digit mobile — loaded with a warning, a call task on its reminder day; nobody records an
  outcome, so after expiry the lapsed report says it was not reached;
- C: one licence number on two rows with two contacts — texted once per stage, to the contact of
  the row changed last, whichever sync mode read it;
- D: the holder applies to renew (in the applications table, which has no change time) between
  D0 and D0+23 — no second reminder;
- E: nothing wrong — texted at 30 and at 7 days.

The days run through the sync and dispatch DAGs with ``dag.test()``: D0 (the first, full sync),
D0+1 and D0+23 (incremental), and D0+31, after expiry. D0 lies 40 days back, so that the lapsed
view (which compares with the server's date) sees the licences as expired at the end.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from conftest import ROOT, airflow_conn_json, load_dags

D0 = dt.date.today() - dt.timedelta(days=40)
EXPIRY = D0 + dt.timedelta(days=30)
REGISTRY = ROOT / "include" / "registry" / "departments"


def _uscc(body: str, *, valid: bool = True) -> str:
    from stdnum.cn import uscc

    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    check = uscc.calc_check_digit(body)
    return body + (check if valid else alphabet[(alphabet.index(check) + 1) % 31])


def _row(
    no: str, mobile: str, *, stamp: dt.datetime, code: str | None = None, contact: str = "王五"
) -> dict[str, Any]:
    return {
        "zsbh": no,
        "zsmc": "道路运输经营许可证",
        "cyr": f"安阳市{no}运输有限公司",
        "cylx": "单位",
        "cyrzjh": code or _uscc("91410500MA44X1" + no[-3:]),
        "lxr": contact,
        "lxrsfz": None,
        "lxdh": mobile,
        "fzrq": "2021-01-01",
        "yxqz": EXPIRY.isoformat(),
        "gxsj": stamp,
        "sfsc": 0,
    }


@pytest.fixture
def world(daily_world, mariadb_factory, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import create_source_schema

    url = mariadb_factory()
    source = engine_from_url(url)
    table = create_source_schema(source, "jtysj")
    stamp = dt.datetime.combine(D0 - dt.timedelta(days=1), dt.time(18))
    with source.begin() as conn:
        conn.execute(
            table.insert(),
            [
                _row(
                    "JT-A001",
                    "13900000001",
                    stamp=stamp,
                    code=_uscc("91410500MA44X1A01", valid=False),
                ),
                _row("JT-B002", "1390000000", stamp=stamp),
                _row("JT-C003", "13900000031", stamp=stamp, contact="甲"),
                _row("JT-C003", "13900000032", stamp=stamp + dt.timedelta(hours=1), contact="乙"),
                _row("JT-D004", "13900000004", stamp=stamp),
                _row("JT-E005", "13900000005", stamp=stamp),
            ],
        )
    monkeypatch.setenv("AIRFLOW_CONN_SRC_JTYSJ", airflow_conn_json(url))
    registry = daily_world.reports.parent / "registry"
    registry.mkdir()
    (registry / "jtysj.yaml").write_text(
        (REGISTRY / "jtysj.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    monkeypatch.setenv("LR_REGISTRY_DIR", str(registry))
    monkeypatch.setenv("LR_CATALOGUE_DIR", str(REGISTRY.parent / "catalogues"))
    yield daily_world, source, table
    source.dispose()


def _day(dags: dict, day: dt.date) -> None:
    logical = pendulum.datetime(day.year, day.month, day.day, 9, tz="Asia/Shanghai")
    for dag_id in ("sync_jtysj", "dispatch_reminders"):
        run = dags[dag_id].test(logical_date=logical)
        assert str(run.state).rsplit(".", 1)[-1].lower() == "success", (dag_id, day)


def _texts(sim) -> dict[tuple[str, str], int]:  # type: ignore[no-untyped-def]
    """(mobile, template) -> how many messages the simulator took."""
    out: dict[tuple[str, str], int] = {}
    for m in sim.messages():
        key = (m["mobile"], m["template"])
        out[key] = out.get(key, 0) + 1
    return out


def _q(engine: sa.Engine, query: str, **params: Any) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


@pytest.mark.mariadb
@pytest.mark.airflow
def test_a_whole_cycle_reaches_every_holder_or_says_why_not(world) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import lapsed
    from licence_reminder.demo.sources import apply_to_renew

    daily, source, table = world
    ledger, sim = daily.ledger, daily.sim
    dags = load_dags()

    _day(dags, D0)  # the first run is full; every licence's first reminder is due
    assert {
        r.licence_no: r.rule
        for r in _q(
            ledger, "SELECT licence_no, rule FROM licence_warning WHERE resolved_at IS NULL"
        )
    } == {"JT-A001": "uscc_check", "JT-B002": "mobile_format", "JT-C003": "duplicate_in_source"}
    assert _q(ledger, "SELECT contact_mobile FROM ledger WHERE licence_no = 'JT-C003'") == [
        ("13900000032",)
    ]
    stage1 = {(mobile, code) for mobile, code in _texts(sim)}
    # each from the catalogue entry's own template (the simulator takes the template names as codes)
    assert stage1 == {
        (m, "jtysj.dlys.stage1")
        for m in ("13900000001", "13900000032", "13900000004", "13900000005")
    }
    tasks = _q(ledger, "SELECT licence_no, stage, reason_code, due_on, status FROM call_task")
    assert [
        (t.licence_no, t.stage, t.reason_code, str(t.due_on)[:10], t.status) for t in tasks
    ] == [("JT-B002", 1, "no_mobile", D0.isoformat(), "open")]

    _day(dags, D0 + dt.timedelta(days=1))  # incremental, nothing changed: nothing new
    assert len(sim.messages()) == 4

    apply_to_renew(source, "JT-D004", D0 + dt.timedelta(days=10))  # no change time: a side table
    with source.begin() as conn:  # the first row of JT-C003 is changed last now, with a new mobile
        conn.execute(
            table.update()
            .where((table.c.zsbh == "JT-C003") & (table.c.lxr == "甲"))
            .values(
                lxdh="13900000033",
                gxsj=dt.datetime.combine(D0 + dt.timedelta(days=22), dt.time(10)),
            )
        )
    _day(dags, D0 + dt.timedelta(days=23))  # incremental: it reads only the changed row of JT-C003
    texts = _texts(sim)
    stage2 = {mobile for (mobile, code) in texts if code == "jtysj.dlys.stage2"}
    assert stage2 == {
        "13900000001",
        "13900000033",
        "13900000005",
    }  # not D: it applied; C's latest contact
    assert all(n == 1 for n in texts.values())  # each holder once per stage
    assert _q(ledger, "SELECT renewal_applied_on FROM ledger WHERE licence_no = 'JT-D004'") == [
        (D0 + dt.timedelta(days=10),)
    ]
    tasks = {
        (t.licence_no, t.stage): t.status
        for t in _q(ledger, "SELECT licence_no, stage, status FROM call_task")
    }
    assert tasks == {("JT-B002", 1): "open", ("JT-B002", 2): "open"}
    assert _q(
        ledger,
        "SELECT rule FROM licence_warning WHERE licence_no = 'JT-A001' AND resolved_at IS NULL",
    ) == [("uscc_check",)]  # still flagged to the DBA

    _day(dags, EXPIRY + dt.timedelta(days=1))  # after expiry: nothing is sent, the report tells
    assert len(sim.messages()) == 7
    report = lapsed.report(ledger)
    assert [(r["licence_no"], r["source"], r["reason"]) for r in report.licences] == [
        ("JT-B002", "ledger", "not reached: SMS failed and nobody worked the call task")
    ]
    assert "no usable mobile" in report.licences[0]["detail"]
    assert report.stale_departments == []
    closed = _q(ledger, "SELECT closed_reason FROM call_task WHERE licence_no = 'JT-B002'")
    assert {c.closed_reason for c in closed} == {"licence expired before anyone called"}
