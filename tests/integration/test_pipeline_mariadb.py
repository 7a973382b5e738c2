"""The whole daily path, end to end with dag.test(): MariaDB sources → MariaDB ledger → simulator.

Asserts the exact ledger, quarantine, reminder and audit rows, then re-runs everything and
asserts that nothing was sent twice and the ledger did not change.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict

import pendulum
import pytest
import sqlalchemy as sa
from conftest import ROOT, airflow_conn_json, load_dags
from licence_reminder.policy import LicenceState, Stage, decide

TODAY = dt.date(2026, 11, 24)
DEPTS = ("scjgj", "jtysj")
LOGICAL = pendulum.datetime(TODAY.year, TODAY.month, TODAY.day, 9, tz="Asia/Shanghai")


@pytest.fixture
def world(daily_world, mariadb_factory, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source

    seeded = {}
    for dept in DEPTS:
        url = mariadb_factory()
        engine = engine_from_url(url)
        seeded[dept] = seed_source(engine, dept, today=TODAY, n=150, seed=7)
        engine.dispose()
        monkeypatch.setenv(f"AIRFLOW_CONN_SRC_{dept.upper()}", airflow_conn_json(url))
    monkeypatch.setenv("LR_REGISTRY_DIR", str(ROOT / "include" / "registry" / "departments"))
    monkeypatch.setenv("LR_CATALOGUE_URL", PAGES)
    approve_catalogue_templates(daily_world.sim)
    yield {
        "ledger": daily_world.ledger,
        "sim": daily_world.sim,
        "seeded": seeded,
        "reports": daily_world.reports,
    }


PAGES = "https://zwfw.example.gov.cn/tx"


def approve_catalogue_templates(sim) -> None:  # type: ignore[no-untyped-def]
    """The simulator approves the shipped catalogues' templates, as a provider would."""
    from licence_reminder.catalogue_check import describe, documented_gateways
    from licence_reminder.registry import catalogue_for

    for dept in DEPTS:
        items = describe(
            catalogue_for(dept, ROOT / "include" / "registry" / "catalogues"),
            catalogue_url=PAGES,
            today=TODAY,
            gateways=documented_gateways(["aliyun"]),
        )
        sim.approve("aliyun", {i["name"]: i["texts"]["aliyun"] for i in items})


def run_all(dags: dict) -> None:
    for dag_id in [f"sync_{d}" for d in DEPTS] + ["dispatch_reminders"]:
        run = dags[dag_id].test(logical_date=LOGICAL)
        assert str(run.state) in {"success", "DagRunState.SUCCESS"}, f"{dag_id} ended {run.state}"


def rows(engine: sa.Engine, query: str, **params) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


@pytest.mark.mariadb
@pytest.mark.airflow
def test_daily_path_end_to_end_and_exactly_once(world) -> None:  # type: ignore[no-untyped-def]
    ledger, sim, seeded = world["ledger"], world["sim"], world["seeded"]
    dags = load_dags()
    run_all(dags)

    # --- ledger: exactly the seeded rows that can be reminded, per department
    for dept, seeded_rows in seeded.items():
        valid = {r.licence_no for r in seeded_rows if r.loads}
        in_ledger = {
            r.licence_no
            for r in rows(ledger, "SELECT licence_no FROM ledger WHERE dept_code = :d", d=dept)
        }
        assert in_ledger == valid, dept
        # --- warnings: every row loaded though built to fail a rule, with that rule
        warned = {
            (w.licence_no, w.rule)
            for w in rows(
                ledger,
                "SELECT licence_no, rule FROM licence_warning WHERE dept_code = :d AND resolved_at IS NULL",
                d=dept,
            )
        }
        assert warned == {(r.licence_no, d) for r in seeded_rows if r.loads for d in r.defects}, (
            dept
        )
        # --- quarantine: every row that cannot be reminded, with (at least) the rules it was built to fail
        quarantined = rows(
            ledger,
            "SELECT licence_no, rules, raw_values, reasons FROM quarantine "
            "WHERE dept_code = :d AND resolved_at IS NULL",
            d=dept,
        )
        defective = [r for r in seeded_rows if not r.loads]
        assert len(quarantined) == len(defective), dept
        by_no = defaultdict(list)
        for q in quarantined:
            by_no[q.licence_no].append(set(q.rules.split(",")))
        for r in defective:
            if r.licence_no and "required:licence_no" not in r.defects:
                assert any(r.defects <= rules for rules in by_no[r.licence_no]), (
                    r.licence_no,
                    r.defects,
                )
        for q in quarantined:
            assert json.loads(q.raw_values) and json.loads(q.reasons)

    # --- reminders: the catalogue's dates for every ledger row, what the policy says on them, and
    # the guaranteed cases
    from licence_reminder.leads import EntryDates
    from licence_reminder.registry import catalogue_for

    dates = {
        (dept, e.licence_name): EntryDates(e)
        for dept in DEPTS
        for e in catalogue_for(dept, ROOT / "include" / "registry" / "catalogues").entries
    }
    ledger_rows = rows(
        ledger,
        """
        SELECT l.id, l.dept_code, l.licence_no, l.licence_name, l.expiry_date, l.status,
               l.renewal_applied_on, l.first_reminder_on, l.second_reminder_on, c.first_lead_days,
               c.second_lead_days
        FROM ledger l JOIN catalogue_entry c
          ON c.dept_code = l.dept_code AND c.licence_name = l.licence_name""",
    )
    expected = set()
    for r in ledger_rows:
        entry_dates = dates[r.dept_code, r.licence_name]
        assert (r.first_reminder_on, r.second_reminder_on) == (
            entry_dates.first_on(r.expiry_date),
            entry_dates.second_on(r.expiry_date),
        ), r.licence_no
        d = decide(
            LicenceState(
                r.id,
                r.expiry_date,
                r.status,
                False,
                r.renewal_applied_on,
                r.first_lead_days,
                r.second_lead_days,
                first_on=r.first_reminder_on,
                second_on=r.second_reminder_on,
            ),
            TODAY,
        )
        if d.plan:
            expected.add((r.dept_code, r.licence_no, int(d.plan)))
    got = {
        (r.dept_code, r.licence_no, r.stage)
        for r in rows(ledger, "SELECT dept_code, licence_no, stage FROM reminder")
    }
    assert got == expected
    stages = {s for _, _, s in got}
    assert stages == {Stage.FIRST, Stage.SECOND}
    revoked = {r.licence_no for r in ledger_rows if r.status != "valid"}
    assert revoked and not revoked & {no for _, no, _ in got}
    expired = {r.licence_no for r in ledger_rows if r.expiry_date < TODAY}
    assert expired and not expired & {no for _, no, _ in got}

    # --- the licences without a usable mobile are call tasks, not messages
    no_mobile = {r.licence_no for rs in seeded.values() for r in rs if "mobile_format" in r.defects}
    tasks = {
        (t.licence_no, t.reason_code)
        for t in rows(ledger, "SELECT licence_no, reason_code FROM call_task")
    }
    assert tasks == {(no, "no_mobile") for no in no_mobile}

    # --- messages: one per mobile, holder, entry, expiry and stage; all sent to the simulator,
    # each once, from its entry's approved template; two SMS each; no date before today
    messages = rows(
        ledger,
        "SELECT id, recipient, status, params, body, body_sha256, segments FROM outbox_message",
    )
    # the simulator's carriers report every message delivered: the receipts task took the reports
    assert messages and all(m.status == "delivered" for m in messages)
    sim_messages = sim.messages()
    assert sorted(m["out_id"] for m in sim_messages) == sorted(m.id for m in messages)
    bodies = {m.id: m.body for m in messages}
    assert all(s["content"] == f"【{s['sign_name']}】{bodies[s['out_id']]}" for s in sim_messages)
    from licence_reminder.sms_templates import VARIABLES

    for m in messages:  # two SMS unless the values are longer than a template is budgeted for
        params = json.loads(m.params)
        typical = {k: VARIABLES[k].typical for k in params}
        if "licence_no" in params:  # one licence's tail: a second one is over budget
            typical["licence_no"] = len(params["licence_no"].split("、")[0])
        over = sum(len(v) - typical[k] for k, v in params.items())
        assert m.body.startswith("尊敬的") and 2 <= m.segments <= 3
        assert m.segments == 2 or over > 0, m.body
    for m in messages:
        stated = [
            dt.date(*map(int, d)) for d in re.findall(r"(\d{4})年(\d{1,2})月(\d{1,2})日", m.body)
        ]
        assert stated and min(stated) >= TODAY, m.body
    grouped = [m.body for m in messages if "、" in m.body]  # the demo's holder with two shops
    assert len(grouped) == 2 and all(
        re.search(r"（尾号(\d{4}、\d{4}|\d{6}、\d{6})）", b) for b in grouped
    )

    # --- audit: one accepted attempt and one delivery report per message, contact masked, text hashed
    # (the view has a row per licence of a call: a grouped message's call shows once per licence)
    attempts = rows(ledger, "SELECT * FROM v_delivery_log")
    calls = rows(ledger, "SELECT message_id, kind FROM delivery_attempt")
    assert sorted(calls) == sorted((m.id, kind) for m in messages for kind in ("receipt", "send"))
    assert {(a.message_id, a.kind) for a in attempts} == set(calls)
    assert {(a.kind, a.outcome) for a in attempts} == {
        ("send", "accepted"),
        ("receipt", "delivered"),
    }
    full_mobiles = {m.recipient for m in messages}
    for a in attempts:
        assert a.provider_message_id and a.gateway == "aliyun"
        assert "****" in a.recipient_masked and a.recipient_masked not in full_mobiles
    assert all(len(m.body_sha256) == 64 for m in messages)

    # --- data-quality reports for the DBAs, with no unmasked personal data
    reports = list(world["reports"].glob("dq_*.html"))
    assert len(reports) == len(DEPTS)
    text = "".join(p.read_text(encoding="utf-8") for p in reports)
    for m in full_mobiles:
        assert m not in text

    # --- run the whole day again: nothing sent twice, ledger unchanged
    before_ledger = rows(ledger, "SELECT * FROM ledger ORDER BY id")
    before_history = rows(ledger, "SELECT COUNT(*) FROM ledger_history")[0][0]
    load_dags()  # a fresh parse, as the next scheduler loop would
    run_all(dags)
    assert len(sim.messages()) == len(sim_messages)
    assert rows(ledger, "SELECT * FROM ledger ORDER BY id") == before_ledger
    assert rows(ledger, "SELECT COUNT(*) FROM ledger_history")[0][0] == before_history
    assert {
        (r.dept_code, r.licence_no, r.stage)
        for r in rows(ledger, "SELECT dept_code, licence_no, stage FROM reminder")
    } == expected
    assert rows(ledger, "SELECT COUNT(*) FROM delivery_attempt")[0][0] == len(calls)
