"""The pages in a real browser (Debian's Chromium through Playwright): each role logs in through
Airflow's login page, sees its pages in the navigation, uses them, and is refused the others.

Screenshots go to ``LR_UI_SCREENSHOT_DIR`` (``make ui-screenshots``: docs/img), else var/screenshots.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import ROOT

FIX = "bash scripts/ensure-browser.sh (apt-get install -y chromium fonts-noto-cjk)"
SHOTS = Path(os.environ.get("LR_UI_SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
NAV = {
    "今日运行 Today",
    "发送记录 Delivery log",
    "季度梳理 Quarterly review",
    "数据质量报告 DQ reports",
    "人工联系 Call list",
}


@pytest.fixture(scope="module")
def browser() -> Iterator:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail(f"Chromium is not installed. Fix: {FIX}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield b
        b.close()


def _login(browser, ui: SimpleNamespace, user: str, *, width: int = 1200, height: int = 760):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{ui.app}/today")  # not logged in: the page says so and links to the login
    page.get_by_role("link", name=re.compile("Log in")).click()
    page.fill("#username", user)
    page.fill("#password", ui.logins[user])
    page.locator("input[type=submit], button[type=submit]").first.click()
    page.wait_for_load_state("networkidle")
    return context, page


def _nav(page) -> set[str]:  # type: ignore[no-untyped-def]
    return {t.strip() for t in page.locator("header nav a").all_inner_texts()}


def _shot(page, name: str, *, full_page: bool = False) -> None:  # type: ignore[no-untyped-def]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def test_operations_uses_every_page(browser, ui_server: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    context, page = _login(browser, ui_server, "ops")
    assert page.url.endswith("/licence-reminder/today")  # back where the login began
    assert _nav(page) == NAV
    assert page.locator("h1").inner_text().startswith("今日运行 Today")
    assert page.locator("table tbody tr").count() == 2  # both departments
    assert page.locator("svg.chart").count() == 1
    _shot(page, "today")

    page.get_by_role("link", name="发送记录 Delivery log").click()
    page.select_option("select[name=dept]", "scjgj")
    page.fill("input[name=date_from]", "2000-01-01")
    page.get_by_role("button", name="查询 Search").click()
    rows = page.locator("table tbody tr")
    assert rows.count() > 0 and "scjgj" in rows.first.inner_text()
    _shot(page, "delivery-log")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出 CSV").click()
    csv_text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert (
        csv_text.splitlines()[0].startswith("消息编号")
        and len(csv_text.splitlines()) == rows.count() + 1
    )

    rows.first.get_by_role("link", name="历史 History").click()
    assert page.locator("h1").inner_text().startswith("短信 Message")
    assert "发送 send" in page.locator("table").nth(2).inner_text()
    _shot(page, "message")

    page.goto(f"{ui_server.app}/delivery-log/lapsed?date_from=2000-01-01")
    assert page.locator("h1").inner_text().startswith("到期未获提醒")
    _shot(page, "lapsed")

    page.get_by_role("link", name="季度梳理 Quarterly review").click()
    assert "季度梳理" in page.locator("h1").inner_text()
    assert page.locator("svg.chart").count() >= 2
    _shot(page, "review")
    page.get_by_role("link", name=re.compile("年度考核 Annual assessment")).click()
    assert page.locator("h1").inner_text().startswith("年度考核")
    assert page.locator("svg.chart").count() == 1
    _shot(page, "annual")
    with page.expect_download() as download:
        page.get_by_role("button", name="导出签核包 XLSX pack").click()
    assert download.value.suggested_filename.endswith(".xlsx")

    page.get_by_role("link", name="数据质量报告 DQ reports").click()
    assert page.locator("h2").count() == 2
    _shot(page, "reports")
    with context.expect_page() as report:
        page.locator("table a").first.click()
    report.value.wait_for_load_state()
    assert "数据质量报告" in report.value.title()
    context.close()


def test_today_fits_a_phone(browser, ui_server: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    context, page = _login(browser, ui_server, "auditor", width=390, height=844)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # the tables scroll inside
    _shot(page, "today-phone")
    context.close()


def test_a_reviewer_sees_only_its_department(browser, ui_server: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    context, page = _login(browser, ui_server, "reviewer_scjgj")
    assert "无权访问" in page.locator("h1").inner_text()  # Today is not theirs
    page.goto(f"{ui_server.app}/")
    assert _nav(page) == {"季度梳理 Quarterly review", "数据质量报告 DQ reports"}
    assert [o.strip() for o in page.locator("select[name=dept] option").all_inner_texts()] == [
        "安阳市市场监督管理局 (scjgj)"
    ]
    page.goto(f"{ui_server.app}/review?dept=jtysj")
    assert "无权访问" in page.locator("h1").inner_text()
    page.goto(f"{ui_server.app}/reports")
    assert page.locator("h2").count() == 1 and "scjgj" in page.locator("h2").inner_text()
    page.goto(f"{ui_server.app}/delivery-log")
    assert "无权访问" in page.locator("h1").inner_text()
    context.close()


def test_call_staff_see_the_call_list_only(browser, ui_server: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    context, page = _login(browser, ui_server, "callstaff_jtysj")
    page.goto(f"{ui_server.app}/")
    assert page.url.endswith("/call-list")
    assert _nav(page) == {"人工联系 Call list"}
    assert "安阳市交通运输局" in page.locator("main").inner_text()
    assert "市场监督" not in page.locator("main").inner_text()
    for path in ("/today", "/delivery-log", "/review", "/reports"):
        page.goto(f"{ui_server.app}{path}")
        assert "无权访问" in page.locator("h1").inner_text(), path
    context.close()


def test_call_staff_reveal_a_mobile_and_record_an_outcome_the_auditor_then_finds(  # type: ignore[no-untyped-def]
    browser, ui_server: SimpleNamespace
) -> None:
    import sqlite3

    db = sqlite3.connect(ui_server.var / "ledger.db")
    task_id, message_id, licence_no, mobile = db.execute(
        "SELECT t.id, t.message_id, t.licence_no, l.contact_mobile FROM call_task t JOIN ledger l ON l.id = t.ledger_id "
        "WHERE t.dept_code = 'scjgj' AND t.reason_code = 'undelivered'"
    ).fetchone()
    (other_department,) = db.execute(
        "SELECT MIN(id) FROM call_task WHERE dept_code = 'jtysj'"
    ).fetchone()
    (due,) = db.execute(
        "SELECT COUNT(*) FROM call_task WHERE dept_code = 'scjgj' AND status IN ('open', 'retry') "
        "AND COALESCE(next_try_on, due_on) <= DATE('now', '+8 hours')"
    ).fetchone()

    context, page = _login(browser, ui_server, "callstaff_scjgj")
    page.goto(f"{ui_server.app}/call-list")
    rows = page.locator("table.calls tbody tr")
    assert rows.count() == due > 0 and "JTYSJ" not in page.locator("main").inner_text()
    assert mobile not in page.content()  # masked until asked for
    _shot(page, "call-list")

    row = rows.filter(has_text=licence_no)
    row.get_by_role("button", name="显示号码 Show").click()  # a POST: the number is in no URL
    assert page.locator(".mobile").inner_text() == mobile and mobile not in page.url
    (reveals,) = db.execute(
        "SELECT COUNT(*) FROM personal_data_access WHERE accessed_by = 'callstaff_scjgj' "
        "AND via = 'ui call list' AND subject = ?",
        (f"call_task:{task_id}",),
    ).fetchone()
    assert reveals == 1

    # closing needs a note: the API's refusal is shown, nothing recorded
    page.get_by_label("关闭（注明原因）").check()
    page.get_by_role("button", name="确认记录 Confirm").click()
    assert "note" in page.locator(".alert").inner_text()
    # two clicks: the outcome, then confirm (no answer: try again tomorrow)
    page.get_by_label("无人接听，改日再拨").check()
    page.get_by_role("button", name="确认记录 Confirm").click()
    assert "已记录 Recorded" in page.locator(".notice").inner_text()
    history = page.locator("table").last.inner_text()
    assert "无人接听，改日再拨" in history and "callstaff_scjgj" in history
    _shot(page, "call-task", full_page=True)
    assert db.execute("SELECT status FROM call_task WHERE id = ?", (task_id,)).fetchone() == (
        "retry",
    )

    response = page.goto(f"{ui_server.app}/call-list/task/{other_department}")
    assert response is not None and response.status == 403
    context.close()

    context, page = _login(browser, ui_server, "auditor")
    response = page.goto(f"{ui_server.app}/delivery-log/message/{message_id}")
    assert response is not None and response.status == 200, response.status if response else None
    assert page.locator("table.call-outcomes").count() == 1, page.locator("main").inner_text()[
        -1500:
    ]
    calls = page.locator("table.call-outcomes").inner_text()
    assert "无人接听，改日再拨" in calls and "callstaff_scjgj" in calls
    page.goto(f"{ui_server.app}/call-list?show=all")
    assert page.locator("table.calls tbody tr").count() > 0
    assert (
        page.get_by_role("button", name=re.compile("显示号码")).count() == 0
    )  # auditors only read
    context.close()
    db.close()


def test_logging_out_ends_access(browser, ui_server: SimpleNamespace) -> None:  # type: ignore[no-untyped-def]
    context, page = _login(browser, ui_server, "auditor")
    page.get_by_role("link", name="退出 Log out").click()
    page.wait_for_load_state("networkidle")
    response = page.goto(f"{ui_server.app}/today")
    assert response is not None and response.status == 401
    context.close()
