"""The pages' figures against a ledger with known contents (SQLite and MariaDB), and who may see
what — no Airflow, no server."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import sqlalchemy as sa
from fastapi import HTTPException
from licence_reminder.ui import access
from licence_reminder.ui.pages.call_list import ListQuery, Scope, task_in_scope, task_list
from licence_reminder.ui.pages.delivery_log import (
    Search,
    lapsed_report,
    message_history,
    search_messages,
)
from licence_reminder.ui.pages.reports import list_reports
from licence_reminder.ui.pages.review import Quarter, annual_figures, review_figures
from licence_reminder.ui.pages.today import today_figures

NOW = dt.datetime(2026, 11, 20, 15, 0, 0)
TODAY = NOW.date()
ID_SHAPED = "410502199001011234"  # a driving licence numbered by its holder's ID number


@pytest.fixture(params=["sqlite", pytest.param("mariadb", marks=pytest.mark.mariadb)])
def ledger(request):  # type: ignore[no-untyped-def]
    engine = request.getfixturevalue(f"ledger_{request.param}")
    _seed(engine)
    return engine


def _ledger_row(i: int, dept: str, licence_no: str, expiry: dt.date, **extra: object) -> dict:
    row = {
        "id": i,
        "dept_code": dept,
        "licence_no": licence_no,
        "licence_name": "许可证",
        "holder_name": "某公司",
        "holder_type": "org",
        "contact_mobile": f"1380000{i:04d}",
        "expiry_date": expiry,
        "status": "valid",
        "row_hash": "h",
        "cycle": 1,
        "created_run": "r",
        "updated_run": "r",
        "created_at": dt.datetime(2026, 1, 1),
        "updated_at": dt.datetime(2026, 1, 1),
        "renewal_applied_on": None,
        "vanished_at": None,
    }
    row.update(extra)
    return row


def _seed(engine: sa.Engine) -> None:
    t = sa.MetaData()
    t.reflect(engine)
    ins = {name: t.tables[name].insert() for name in t.tables}
    with engine.begin() as c:
        c.execute(
            ins["department"],
            [
                {"code": d, "name": n, "region_code": "410500", "updated_at": NOW}
                for d, n in (("scjgj", "市场监管"), ("jtysj", "交通运输"))
            ],
        )
        c.execute(
            ins["catalogue_entry"],
            [
                {
                    "dept_code": "scjgj",
                    "licence_name": "许可证",
                    "approval_item": "审批",
                    "office": "科",
                    "statutory_validity": "3年",
                    "first_lead_days": 30,
                    "second_lead_days": 7,
                    "renewal_window": "w",
                    "renewal_deadline_days": 30,
                    "service_phone": "1",
                    "materials": "m",
                    "lapse_consequences": "c",
                    "updated_at": dt.datetime(2026, 11, 2),
                }
            ],
        )
        c.execute(
            ins["ledger"],
            [
                _ledger_row(1, "scjgj", "A1", TODAY + dt.timedelta(days=7)),
                _ledger_row(2, "scjgj", ID_SHAPED, TODAY + dt.timedelta(days=30)),
                _ledger_row(
                    3, "scjgj", "A3", TODAY - dt.timedelta(days=10)
                ),  # lapsed, never planned
                _ledger_row(
                    4, "scjgj", "A4", TODAY - dt.timedelta(days=5)
                ),  # lapsed, on the call list
                _ledger_row(5, "jtysj", "B1", TODAY + dt.timedelta(days=40), status="revoked"),
            ],
        )
        reminders = [  # (id, ledger, stage, due, status, message)
            (1, 1, 2, TODAY, "delivered", "m1"),
            (2, 2, 1, TODAY, "call_list", "m2"),
            (3, 4, 1, TODAY - dt.timedelta(days=35), "call_list", "m3"),
            (4, 1, 1, TODAY - dt.timedelta(days=23), "queued", None),
        ]
        lic = {
            1: ("scjgj", "A1", TODAY + dt.timedelta(days=7)),
            2: ("scjgj", ID_SHAPED, TODAY + dt.timedelta(days=30)),
            4: ("scjgj", "A4", TODAY - dt.timedelta(days=5)),
        }
        c.execute(
            ins["reminder"],
            [
                {
                    "id": i,
                    "ledger_id": l,
                    "dept_code": lic[l][0],
                    "licence_no": lic[l][1],
                    "cycle": 1,
                    "expiry_date": lic[l][2],
                    "stage": s,
                    "channel": "sms",
                    "due_on": d,
                    "planned_run": "p",
                    "status": st,
                    "message_id": m,
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for i, l, s, d, st, m in reminders
            ],
        )
        c.execute(
            ins["outbox_message"],
            [
                {
                    "id": m,
                    "dept_code": "scjgj",
                    "channel": "sms",
                    "gateway": "aliyun",
                    "gateway_conn_id": "sms_gateway",
                    "recipient": f"1380000000{n}",
                    "recipient_masked": f"138****000{n}",
                    "template_name": "sms_stage1",
                    "params": "{}",
                    "body": "b",
                    "body_sha256": "x" * 64,
                    "body_length": 1,
                    "segments": 1,
                    "status": st,
                    "attempts": 1,
                    "last_code": code,
                    "last_message": msg,
                    "run_id": "d",
                    "created_at": NOW - dt.timedelta(hours=5),
                    "sent_at": sent,
                    "updated_at": NOW,
                }
                for n, (m, st, sent, code, msg) in enumerate(
                    [
                        ("m1", "delivered", NOW - dt.timedelta(hours=5), "DELIVERED", None),
                        (
                            "m2",
                            "call_list",
                            NOW - dt.timedelta(hours=5),
                            "MK:0001",
                            "unreachable 13912345678",
                        ),
                        ("m3", "call_list", None, "isv.MOBILE_NUMBER_ILLEGAL", None),
                    ],
                    1,
                )
            ],
        )
        attempt = {
            "attempt_no": 1,
            "dept_code": "scjgj",
            "channel": "sms",
            "gateway": "aliyun",
            "recipient_masked": "138****0001",
            "body_sha256": "x" * 64,
            "run_id": "d",
        }
        c.execute(
            ins["delivery_attempt"],
            [
                attempt
                | {
                    "message_id": "m1",
                    "kind": "send",
                    "outcome": "accepted",
                    "started_at": NOW - dt.timedelta(hours=5),
                    "finished_at": NOW - dt.timedelta(hours=5),
                },
                attempt
                | {
                    "message_id": "m1",
                    "kind": "receipt",
                    "outcome": "delivered",
                    "started_at": NOW - dt.timedelta(hours=4),
                    "finished_at": NOW - dt.timedelta(hours=4),
                },
                attempt
                | {
                    "message_id": "m2",
                    "kind": "receipt",
                    "outcome": "undelivered",
                    "started_at": NOW - dt.timedelta(hours=4),
                    "finished_at": NOW - dt.timedelta(hours=4),
                },
            ],
        )
        counts = json.dumps(
            {"rows": 10, "valid": 8, "rejected": 2, "mobile_format": 2, "uscc_check": 1}
        )
        c.execute(
            ins["sync_run"],
            [
                {
                    "run_id": "scjgj:run1",
                    "run_no": 1,
                    "dept_code": "scjgj",
                    "mode": "full",
                    "status": "success",
                    "started_at": NOW - dt.timedelta(hours=13),
                    "finished_at": NOW - dt.timedelta(hours=13),
                    "rows_read": 10,
                    "rows_valid": 8,
                    "rows_rejected": 2,
                    "inserted": 4,
                    "updated": 1,
                    "renewed": 1,
                    "vanished": 0,
                    "quarantine_resolved": 0,
                    "counts_by_rule": counts,
                },
                {
                    "run_id": "jtysj:run1",
                    "run_no": 2,
                    "dept_code": "jtysj",
                    "mode": "full",
                    "status": "success",
                    "started_at": NOW - dt.timedelta(days=3),
                    "finished_at": NOW - dt.timedelta(days=3),
                    "rows_read": 1,
                    "rows_valid": 1,
                    "rows_rejected": 0,
                    "inserted": 1,
                    "updated": 0,
                    "renewed": 0,
                    "vanished": 0,
                    "quarantine_resolved": 0,
                    "counts_by_rule": None,
                },
            ],
        )
        c.execute(
            ins["ledger_history"],
            [
                {
                    "ledger_id": 1,
                    "dept_code": "scjgj",
                    "licence_no": "A1",
                    "run_id": "scjgj:run1",
                    "change_kind": "renewal",
                    "old_values": json.dumps({"expiry_date": "2026-10-15", "status": "valid"}),
                    "new_values": json.dumps(
                        {"expiry_date": str(TODAY + dt.timedelta(days=7)), "status": "valid"}
                    ),
                    "changed_at": dt.datetime(2026, 10, 10),
                },
                {
                    "ledger_id": 3,
                    "dept_code": "scjgj",
                    "licence_no": "A3",
                    "run_id": "scjgj:run1",
                    "change_kind": "update",
                    "old_values": json.dumps({"status": "valid"}),
                    "new_values": json.dumps({"status": "revoked"}),
                    "changed_at": NOW - dt.timedelta(hours=13),
                },
            ],
        )
        # A2's undelivered SMS became a call task: no answer, then reached; and a transport one unworked
        task = {
            "stage": 1,
            "due_on": TODAY,
            "created_run": "d",
            "created_at": NOW - dt.timedelta(hours=3),
            "updated_at": NOW,
        }
        c.execute(
            ins["call_task"],
            [
                task
                | {
                    "id": 1,
                    "dept_code": "scjgj",
                    "ledger_id": 2,
                    "licence_no": ID_SHAPED,
                    "expiry_date": TODAY + dt.timedelta(days=30),
                    "reminder_id": 2,
                    "message_id": "m2",
                    "reason_code": "undelivered",
                    "reason": "not delivered: MK:0001 (13912345678)",
                    "status": "done",
                    "outcome": "reached_renewing",
                    "outcomes": 2,
                    "closed_at": NOW - dt.timedelta(hours=1),
                },
                task
                | {
                    "id": 2,
                    "dept_code": "jtysj",
                    "ledger_id": 5,
                    "licence_no": "B1",
                    "expiry_date": TODAY + dt.timedelta(days=40),
                    "reminder_id": 99,
                    "message_id": None,
                    "reason_code": "no_mobile",
                    "reason": "no usable mobile",
                    "status": "open",
                    "outcome": None,
                    "outcomes": 0,
                    "closed_at": None,
                },
            ],
        )
        c.execute(
            ins["call_outcome"],
            [
                {
                    "call_task_id": 1,
                    "dept_code": "scjgj",
                    "outcome": "no_answer",
                    "note": None,
                    "retry_on": TODAY + dt.timedelta(days=1),
                    "recorded_by": "callstaff_scjgj",
                    "recorded_at": NOW - dt.timedelta(hours=2),
                },
                {
                    "call_task_id": 1,
                    "dept_code": "scjgj",
                    "outcome": "reached_renewing",
                    "note": "已告知 139****5678",
                    "retry_on": None,
                    "recorded_by": "callstaff_scjgj",
                    "recorded_at": NOW - dt.timedelta(hours=1),
                },
            ],
        )


CODES = {"jtysj": "交通运输", "scjgj": "市场监管"}


def test_today(ledger: sa.Engine) -> None:
    figures = today_figures(ledger, NOW, CODES)
    by = {d.code: d for d in figures.departments}
    assert by["scjgj"].counts == {
        "due": 2,
        "sent": 2,
        "delivered": 1,
        "undelivered": 1,
        "call_list": 1,
        "pending": 1,
    }
    # the call list counts licences not yet expired: A4 expired five days ago
    assert by["scjgj"].problem is None and by["scjgj"].top_rules == [
        ("mobile_format", 2),
        ("uscc_check", 1),
    ]
    assert by["scjgj"].dag_run_id == "run1"
    assert "26" in by["jtysj"].problem  # three days without a good sync
    assert figures.daily["sent"][-1] == 2 and figures.daily["delivered"][-1] == 1
    assert len(figures.daily["sent"]) == 30


def test_delivery_search(ledger: sa.Engine) -> None:
    def ids(**form: str) -> list[str]:
        return [m.id for m in search_messages(ledger, Search.parse(form, TODAY, list(CODES)))]

    assert ids() == ["m3", "m2", "m1"] or sorted(ids()) == ["m1", "m2", "m3"]
    assert ids(dept="jtysj") == []
    assert ids(status="call_list", licence="A4") == ["m3"]
    assert ids(mobile="13800000002") == ["m2"]  # a full number is searched masked
    assert ids(mobile="138****0002") == ["m2"]
    shown = {
        m.id: m.licences for m in search_messages(ledger, Search.parse({}, TODAY, list(CODES)))
    }
    assert shown["m2"] == ["410*************34"]  # the ID-shaped licence number masked
    assert (
        search_messages(ledger, Search.parse({"licence": ID_SHAPED}, TODAY, list(CODES)))[0].id
        == "m2"
    )


def test_message_history_masks_what_a_provider_echoed(ledger: sa.Engine) -> None:
    h = message_history(ledger, "m2")
    assert h is not None and h.message["last_message"] == "unreachable 139****5678"
    assert [r["licence_no"] for r in h.reminders] == ["410*************34"]
    assert message_history(ledger, "nope") is None


def test_message_history_shows_the_call_task_and_every_outcome(ledger: sa.Engine) -> None:
    h = message_history(ledger, "m2")
    assert h is not None and [t["id"] for t in h.call_tasks] == [1]
    task = h.call_tasks[0]
    assert (
        task["licence_no"] == "410*************34"
        and task["reason"] == "not delivered: MK:0001 (139****5678)"
    )
    assert (task["reason_label"], task["status_label"]) == ("运营商未送达", "已完成")
    assert [(o["outcome_label"], o["recorded_by"], o["note"]) for o in task["outcomes"]] == [
        ("无人接听，改日再拨", "callstaff_scjgj", None),
        ("已联系，将办理延续", "callstaff_scjgj", "已告知 139****5678"),
    ]
    assert message_history(ledger, "m1").call_tasks == []


def test_annual_figures_are_the_views(ledger: sa.Engine) -> None:
    with ledger.connect() as c:
        view = {
            (r.dept_code, str(r.year)): dict(r._mapping)
            for r in c.execute(sa.text("SELECT * FROM v_assessment_yearly"))
        }
    for dept in CODES:
        mine = annual_figures(ledger, dept)
        theirs = [
            {
                k: (str(v) if k == "year" else int(v or 0))
                for k, v in row.items()
                if k != "dept_code"
            }
            for (d, _), row in sorted(view.items())
            if d == dept
        ]
        assert mine == theirs, dept
    # A2 reached by phone; A1's renewed cycle, A3 and A4 lapsed; A3 never reminded
    (y2026,) = [y for y in annual_figures(ledger, "scjgj") if y["year"] == "2026"]
    assert (y2026["reached_by_phone"], y2026["reminded"], y2026["lapsed_unreminded"]) == (1, 2, 2)


def _scope(*, read: list[str], act: list[str], city_wide: bool = False) -> Scope:
    return Scope(CODES, read, act, city_wide)


def test_call_list_for_call_staff_operations_and_auditors(ledger: sa.Engine) -> None:
    staff = _scope(read=["scjgj"], act=["scjgj"])
    q = ListQuery.parse({}, staff)
    assert (q.dept, q.show, q.page) == ("scjgj", "due", 0)
    rows, total = task_list(ledger, q, staff, TODAY)
    assert (rows, total) == ([], 0)  # its one task is done
    rows, total = task_list(ledger, ListQuery.parse({"show": "all"}, staff), staff, TODAY)
    assert total == 1 and rows[0]["licence_no"] == "410*************34" and rows[0]["may_act"]
    assert (
        rows[0]["reason"] == "not delivered: MK:0001 (139****5678)"
        and rows[0]["mobile_masked"] == "138****0002"
    )
    assert rows[0]["contact_name"] is None or "*" not in rows[0]["contact_name"]
    with pytest.raises(HTTPException) as refused:
        ListQuery.parse({"dept": "jtysj"}, staff)
    assert refused.value.status_code == 403

    ops = _scope(read=["jtysj", "scjgj"], act=["jtysj", "scjgj"], city_wide=True)
    rows, total = task_list(ledger, ListQuery.parse({}, ops), ops, TODAY)
    assert [r["id"] for r in rows] == [2] and total == 1  # every department: the open one due today
    rows, _ = task_list(ledger, ListQuery.parse({"show": "all"}, ops), ops, TODAY)
    assert [r["id"] for r in rows] == [1, 2]  # soonest expiry first

    auditor = _scope(read=["jtysj", "scjgj"], act=[], city_wide=True)
    rows, _ = task_list(ledger, ListQuery.parse({"show": "all"}, auditor), auditor, TODAY)
    assert not any(r["may_act"] for r in rows)
    assert rows[0]["holder_name"] == "某**"  # names masked for a reader
    assert task_in_scope(ledger, 2, auditor)["dept_code"] == "jtysj"
    for scope, task_id, method, status in (
        (staff, 2, access.READ, 403),
        (auditor, 1, access.ACT, 403),
        (staff, 999, access.READ, 404),
    ):
        with pytest.raises(HTTPException) as refused:
            task_in_scope(ledger, task_id, scope, method)
        assert refused.value.status_code == status


def test_lapsed_report(ledger: sa.Engine) -> None:
    report = lapsed_report(
        ledger, TODAY - dt.timedelta(days=30), TODAY - dt.timedelta(days=1), None
    )
    reasons = dict(report.reasons["scjgj"])
    assert reasons == {
        "sending failed: on the call list": 1,
        "never planned: no dispatch ran inside the reminder window": 1,
    }
    assert {r["licence_no"] for r in report.rows} == {"A3", "A4"}


def test_review(ledger: sa.Engine) -> None:
    r = review_figures(ledger, "scjgj", "市场监管", Quarter(2026, 4), TODAY, with_annual=True)
    assert r.changes["added"] == 4 and r.changes["renewed"] == 1 and r.changes["revoked"] == 1
    assert r.rules == ["mobile_format", "uscc_check"] and len(r.catalogue) == 1
    # cycles expiring in 2026Q4: A1 now, A2, A3, A4, and A1's renewed cycle (2026-10-15)
    assert (
        r.coverage["cycles"] == 5 and r.coverage["reminded"] == 1 and r.coverage["delivered"] == 1
    )
    assert r.coverage["renewed_before_expiry"] == 1 and r.coverage["lapsed"] == 2
    assert r.coverage["on_call_list"] == 2
    assert [y["year"] for y in r.yearly] == ["2026"]


def test_quarter() -> None:
    q = Quarter.parse("2026q1", TODAY)
    assert (q.first_day, q.last_day, str(q.previous()), str(q.next())) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
        "2025Q4",
        "2026Q2",
    )
    assert Quarter.parse(None, TODAY) == Quarter(2026, 4)
    with pytest.raises(ValueError):
        Quarter.parse("2026Q5", TODAY)


def test_reports_belong_to_the_longest_code_that_fits(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for name in ("dq_sc_run1.html", "dq_sc_x_run2.html", "dq_other_run.html", "notes.txt"):
        (tmp_path / name).write_text("x")
    found = list_reports(tmp_path, ["sc", "sc_x"])
    assert [r.name for r in found["sc"]] == ["dq_sc_run1.html"]
    assert [r.run for r in found["sc_x"]] == ["run2"]


def test_roles_give_exactly_their_pages() -> None:
    specs = {s.name: s for s in access.role_specs(["scjgj", "jtysj"])}
    assert set(specs) == {
        "lr_operations",
        "lr_auditor",
        "lr_reviewer_scjgj",
        "lr_reviewer_jtysj",
        "lr_call_staff_scjgj",
        "lr_call_staff_jtysj",
    }
    assert ("POST", access.CALL_LIST) in specs["lr_operations"].grants
    assert all(method == "GET" for method, _ in specs["lr_auditor"].grants)
    reviewer = access.Viewer("r", lambda m, r: (m, r) in specs["lr_reviewer_scjgj"].grants)
    assert reviewer.departments(access.REVIEW, CODES) == ["scjgj"]
    assert not reviewer.may(access.TODAY) and not reviewer.may_any(access.CALL_LIST, CODES)
    auditor = access.Viewer("a", lambda m, r: (m, r) in specs["lr_auditor"].grants)
    assert auditor.departments(access.REVIEW, CODES) == ["jtysj", "scjgj"]
    assert not auditor.may(access.CALL_LIST, access.ACT)
