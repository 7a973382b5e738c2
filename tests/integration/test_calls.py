"""Call tasks: holders SMS could not reach, worked by people — listed masked, an outcome recorded
as an append-only audit row, a full mobile shown only on purpose and recorded, exported."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa
from licence_reminder import calls, cli

TODAY = dt.date(2026, 11, 24)


@pytest.fixture(params=["mariadb", "sqlite"])
def ledger(request):  # type: ignore[no-untyped-def]
    """A ledger holding three licences SMS could not reach (no mobile, a 10-digit one, a refusal)
    and one it could, with their reminders as the dispatch leaves them."""
    engine = request.getfixturevalue(f"ledger_{request.param}")
    now = dt.datetime(2026, 11, 24, 9, 5)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO department (code, name, region_code, updated_at) "
                "VALUES ('scjgj', '安阳市市场监督管理局', '410500', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            sa.text(
                "INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, "
                "first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, service_phone, materials, "
                "lapse_consequences, updated_at) VALUES ('scjgj', '食品经营许可证', '食品经营许可', '审批科', '5年', 30, 7, "
                "'届满前', 0, '0372-2510100', '[]', '后果', :now)"
            ),
            {"now": now},
        )
        for i, (mobile, status, reason) in enumerate(
            [
                (
                    None,
                    "call_list",
                    "no usable mobile: the department's record has no mobile number",
                ),
                (
                    "1390000000",
                    "call_list",
                    "no usable mobile: mobile number: has 10 digits, a mainland mobile has 11",
                ),
                ("13900000003", "call_list", "permanent: isv.MOBILE_NUMBER_ILLEGAL"),
                ("13900000004", "sent", None),
            ],
            start=1,
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, contact_name, "
                    "contact_mobile, expiry_date, status, row_hash, cycle, created_run, updated_run, created_at, updated_at) "
                    "VALUES ('scjgj', :no, '食品经营许可证', :holder, 'org', '张三', :mobile, :expiry, 'valid', 'h', 1, "
                    "'r', 'r', :now, :now)"
                ),
                {
                    "no": f"SC{i:04d}",
                    "holder": f"安阳市第{i}食品有限公司",
                    "mobile": mobile,
                    "expiry": TODAY + dt.timedelta(days=30 - i),
                    "now": now,
                },
            )
            conn.execute(
                sa.text(
                    "INSERT INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel, due_on, "
                    "planned_run, status, status_reason, created_at, updated_at) VALUES (:id, 'scjgj', :no, 1, :expiry, 1, "
                    "'sms', :today, 'p', :status, :reason, :now, :now)"
                ),
                {
                    "id": i,
                    "no": f"SC{i:04d}",
                    "expiry": TODAY + dt.timedelta(days=30 - i),
                    "today": TODAY,
                    "status": status,
                    "reason": reason,
                    "now": now,
                },
            )
    return engine


def test_what_sms_could_not_reach_becomes_call_tasks_once(ledger: sa.Engine) -> None:
    assert calls.open_tasks(ledger, today=TODAY, run_id="d1") == 3
    assert calls.open_tasks(ledger, today=TODAY, run_id="d1") == 0  # idempotent

    tasks = calls.list_tasks(ledger, calls.Filter(dept_code="scjgj", open_only=True))
    assert [(t["licence_no"], t["reason_code"], t["mobile_masked"]) for t in tasks] == [
        ("SC0003", "refused", "139****0003"),
        ("SC0002", "no_mobile", "139*****00"),
        ("SC0001", "no_mobile", None),
    ]
    assert (
        tasks[0]["service_phone"] == "0372-2510100"
        and tasks[0]["holder_name"] == "安阳市第3食品有限公司"
    )
    assert all(t["due_on"] == TODAY.isoformat() and t["status"] == "open" for t in tasks)
    assert not any("13900000003" in str(v) for t in tasks for v in t.values())


def test_an_outcome_is_recorded_once_and_audited(ledger: sa.Engine) -> None:
    calls.open_tasks(ledger, today=TODAY, run_id="d1")
    (task,) = [t for t in calls.list_tasks(ledger) if t["licence_no"] == "SC0003"]

    retry = calls.record_outcome(ledger, task["id"], "no_answer", by="李四", today=TODAY)
    assert (retry["status"], retry["next_try_on"]) == ("retry", "2026-11-25")
    assert calls.count_tasks(ledger, calls.Filter(due_before=TODAY)) == 2  # it waits for tomorrow
    done = calls.record_outcome(
        ledger,
        task["id"],
        "reached_renewing",
        by="李四",
        note="已通知，备用号码 138 1234 5678",
        today=TODAY + dt.timedelta(days=1),
    )
    assert done["status"] == "done" and [h["outcome"] for h in done["history"]] == [
        "no_answer",
        "reached_renewing",
    ]
    assert done["history"][1]["note"] == "已通知，备用号码 138****5678"
    with pytest.raises(calls.CallTaskError, match="is done .* takes no more outcomes"):
        calls.record_outcome(ledger, task["id"], "wrong_number", by="王五")
    with pytest.raises(calls.CallTaskError, match="needs a note"):
        calls.record_outcome(ledger, task["id"] + 1, "closed", by="王五")
    with pytest.raises(calls.CallTaskError, match="no call task 999"):
        calls.record_outcome(ledger, 999, "closed", by="王五", note="x")
    with ledger.connect() as conn:  # outcomes are append-only, whoever asks
        log = conn.execute(
            sa.text("SELECT outcome, recorded_by FROM v_call_log ORDER BY outcome_id")
        ).all()
        assert [tuple(r) for r in log] == [("no_answer", "李四"), ("reached_renewing", "李四")]
    for statement in ("UPDATE call_outcome SET outcome = 'closed'", "DELETE FROM call_outcome"):
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), ledger.begin() as conn:
            conn.execute(sa.text(statement))


def test_a_full_mobile_is_shown_on_purpose_only_and_recorded(
    ledger: sa.Engine, tmp_path: Path
) -> None:
    from openpyxl import load_workbook

    calls.open_tasks(ledger, today=TODAY, run_id="d1")
    (task,) = [t for t in calls.list_tasks(ledger) if t["licence_no"] == "SC0003"]
    assert calls.reveal_mobile(ledger, task["id"], by="李四", via="test") == "13900000003"

    masked, full = tmp_path / "calls.xlsx", tmp_path / "calls-full.xlsx"
    assert (
        calls.export_xlsx(
            ledger, masked, calls.Filter(dept_code="scjgj", open_only=True), by="李四"
        )
        == 3
    )
    assert (
        calls.export_xlsx(
            ledger, full, calls.Filter(dept_code="scjgj", open_only=True), by="李四", unmasked=True
        )
        == 3
    )
    cells = {str(c.value) for row in load_workbook(masked).active.iter_rows() for c in row}
    assert "139****0003" in cells and "13900000003" not in cells and "联系人手机号码" in cells
    assert "13900000003" in {
        str(c.value) for row in load_workbook(full).active.iter_rows() for c in row
    }
    with ledger.connect() as conn:
        access = conn.execute(
            sa.text(
                "SELECT accessed_by, via, subject, row_count FROM personal_data_access ORDER BY id"
            )
        ).all()
    assert [tuple(a) for a in access] == [
        ("李四", "test", f"call_task:{task['id']}", 1),
        ("李四", "calls export --unmasked", "call list export", 3),
    ]


def test_tasks_nobody_needs_are_closed_saying_why(ledger: sa.Engine) -> None:
    calls.open_tasks(ledger, today=TODAY, run_id="d1")
    with ledger.begin() as conn:
        conn.execute(
            sa.text("UPDATE ledger SET renewal_applied_on = :d WHERE licence_no = 'SC0001'"),
            {"d": TODAY},
        )
        conn.execute(sa.text("UPDATE ledger SET status = 'revoked' WHERE licence_no = 'SC0002'"))
    assert calls.close_unneeded(ledger, today=TODAY) == {
        "renewal application received": 1,
        "licence revoked": 1,
    }
    assert calls.close_unneeded(ledger, today=TODAY + dt.timedelta(days=40)) == {
        "licence expired before anyone called": 1
    }
    assert calls.count_tasks(ledger, calls.Filter(open_only=True)) == 0


def test_the_command_line(
    ledger: sa.Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = ledger.url.render_as_string(hide_password=False)
    calls.open_tasks(ledger, today=TODAY, run_id="d1")
    assert cli.main(["calls", "list", "--dept", "scjgj", "--open", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "3 call task(s) (all shown" in out and "139****0003" in out and "13900000003" not in out
    assert (
        "(no mobile)" in out
        and "SMS: 无可用手机号码" in out
        and "service phone 0372-2510100" in out
    )
    task_id = int(out.split("#")[1].split()[0])

    assert (
        cli.main(
            [
                "calls",
                "record",
                str(task_id),
                "--outcome",
                "wrong_number",
                "--by",
                "李四",
                "--url",
                url,
            ]
        )
        == 0
    )
    assert "号码错误 recorded; now 已完成" in capsys.readouterr().out
    assert cli.main(["calls", "record", str(task_id), "--outcome", "no_answer", "--url", url]) == 2
    assert "takes no more outcomes" in capsys.readouterr().err
    assert cli.main(["calls", "show", str(task_id), "--reveal", "--by", "李四", "--url", url]) == 0
    captured = capsys.readouterr()
    assert "13900000003" in captured.out and "this access is recorded" in captured.err
    assert "李四: 号码错误" in captured.out
    assert (
        cli.main(
            ["calls", "export", "--dept", "scjgj", "--out", str(tmp_path / "c.xlsx"), "--url", url]
        )
        == 0
    )
    assert "wrote 2 call task(s)" in capsys.readouterr().out
    assert cli.main(["calls", "list", "--dept", "nosuch", "--url", url]) == 2
