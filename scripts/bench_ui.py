"""Benchmark: each UI page's load time on a 1,000,000-licence MariaDB ledger (target < 1 s).

    python scripts/bench_ui.py [--licences 1000000] [--departments 10] [--call-tasks 20000] [--runs 5]
                               [--keep | --reuse DATABASE]

Builds a fresh MariaDB ledger (migrated to head) and fills it in bulk with SQL from MariaDB's
sequence tables — not through the syncs: 1,000,000 licences over ``--departments`` departments,
expiring from a year ago to two years ahead; for every licence whose reminder dates have come, a
stage-1 and a stage-2 reminder, each with its outbox message (delivered, sent, on the call list,
failed, in the proportions a mature run shows) and its gateway calls and carrier receipts; 40,000
renewals in the ledger history; ``--call-tasks`` call tasks (the newest reminders SMS could not
deliver: those not yet expired to be worked, the older ones done with an outcome or closed); a
sync run per department per day for 120 days with counts by rule, and a data-quality report file
for each. Then it requests every page through the UI's app
in this process (the ASGI app the plugin mounts, with the auth check stubbed: the JWT check is
Airflow's and costs the same on every page) and prints each page's median and slowest time over
``--runs`` requests after one warm-up. The server runs with the 1 GiB buffer pool
docker-compose.yaml gives the ledger (set for the run and put back). Needs MariaDB on 127.0.0.1
(root, no password). Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from bench_mariadb import buffer_pool, mysql
from licence_reminder import schema
from licence_reminder.config import local_now
from licence_reminder.db import engine_from_url

RULES = (
    "mobile_format",
    "resident_id_check",
    "required:holder_name",
    "date_format:expiry_date",
    "duplicate_licence_no",
    "licence_not_in_catalogue",
)


def generate(
    db: str, licences: int, departments: int, call_tasks: int, today: dt.date
) -> dict[str, float]:
    """Fill the ledger in bulk; returns the seconds each part took."""
    t: dict[str, float] = {}
    d = today.isoformat()
    codes = [f"d{i:02d}" for i in range(departments)]

    def step(name: str, *statements: str) -> None:
        start = time.perf_counter()
        for s in statements:
            mysql(s, db)
        t[name] = time.perf_counter() - start
        print(f"  {name}: {t[name]:.1f} s", flush=True)

    values = ", ".join(f"('{c}', '部门 {c}', '410500', NOW())" for c in codes)
    cat = ", ".join(
        f"('{c}', '许可证{k}', '审批{k}', '科室', '3年', 30, 7, '到期前30日内', 30, NULL, '大厅', "
        f"'0372-0000000', '材料', '后果', NOW())"
        for c in codes
        for k in range(3)
    )
    step(
        "departments and catalogue",
        f"INSERT INTO department (code, name, region_code, updated_at) VALUES {values}",
        "INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, "
        "first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, online_url, service_hall, "
        f"service_phone, materials, lapse_consequences, updated_at) VALUES {cat}",
    )
    # expiry spread over [today - 365, today + 730); ~1% revoked, ~1% vanished
    step(
        f"ledger ({licences:,} licences)",
        "INSERT INTO ledger (id, dept_code, licence_no, licence_name, holder_name, holder_type, holder_code, "
        "contact_name, contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on, "
        "source_updated_at, first_reminder_on, second_reminder_on, row_hash, cycle, vanished_at, created_run, "
        "updated_run, created_at, updated_at) "
        f"SELECT s.seq, CONCAT('d', LPAD(s.seq % {departments}, 2, '0')), CONCAT('L', LPAD(s.seq, 10, '0')), "
        "CONCAT('许可证', s.seq % 3), CONCAT('持证单位', s.seq), 'org', NULL, '联系人', NULL, "
        "CONCAT('13', LPAD(s.seq, 9, '0')), "
        f"DATE_SUB('{d}', INTERVAL 3 YEAR), DATE_ADD('{d}', INTERVAL CAST((s.seq * 7919) % 1095 AS SIGNED) - 365 DAY), "
        "IF(s.seq % 97 = 0, 'revoked', 'valid'), IF(s.seq % 53 = 0, DATE_SUB('"
        + d
        + "', INTERVAL 20 DAY), NULL), "
        "NOW(), NULL, NULL, MD5(s.seq), 1, IF(s.seq % 101 = 0, NOW(), NULL), 'bench:load', 'bench:load', "
        f"DATE_SUB('{d}', INTERVAL 400 + s.seq % 300 DAY), NOW() "
        f"FROM seq_1_to_{licences} s",
    )
    # stage 1 due 30 days before expiry, stage 2 7 days before, for every date that has come; one
    # licence in 41 never planned (the lapsed report's "no dispatch ran inside the window")
    step(
        "reminders",
        "INSERT INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel, due_on, "
        "planned_run, status, status_reason, message_id, created_at, updated_at) "
        "SELECT l.id, l.dept_code, l.licence_no, 1, l.expiry_date, g.seq, 'sms', "
        "DATE_SUB(l.expiry_date, INTERVAL IF(g.seq = 1, 30, 7) DAY), 'bench', "
        "CASE WHEN (l.id + g.seq) % 20 = 0 THEN 'call_list' WHEN (l.id + g.seq) % 33 = 0 THEN 'failed' "
        "     WHEN (l.id + g.seq) % 11 = 0 THEN 'sent' ELSE 'delivered' END, NULL, "
        "MD5(CONCAT(l.id, '-', g.seq)), "
        "DATE_SUB(l.expiry_date, INTERVAL IF(g.seq = 1, 30, 7) DAY), "
        "DATE_ADD(DATE_SUB(l.expiry_date, INTERVAL IF(g.seq = 1, 30, 7) DAY), INTERVAL 10 HOUR) "
        "FROM ledger l JOIN seq_1_to_2 g "
        f"WHERE DATE_SUB(l.expiry_date, INTERVAL IF(g.seq = 1, 30, 7) DAY) <= '{d}' "
        "AND l.status = 'valid' AND l.vanished_at IS NULL AND l.id % 41 <> 0",
    )
    step(
        "outbox messages",
        "INSERT INTO outbox_message (id, dept_code, channel, gateway, gateway_conn_id, recipient, "
        "recipient_masked, template_name, template_code, params, body, body_sha256, body_length, segments, "
        "status, shard, attempts, next_attempt_at, provider_message_id, last_code, last_message, run_id, "
        "created_at, sent_at, updated_at) "
        "SELECT r.message_id, r.dept_code, 'sms', 'aliyun', 'sms_gateway', l.contact_mobile, "
        "CONCAT(LEFT(l.contact_mobile, 3), '****', RIGHT(l.contact_mobile, 4)), "
        "CONCAT('sms_stage', r.stage), 'SMS_1', '{}', '', SHA2(r.message_id, 256), 60, 1, "
        "IF(r.status = 'failed', 'call_list', r.status), r.id % 2, 1, NULL, CONCAT('P', r.id), "
        "IF(r.status = 'delivered', 'DELIVERED', IF(r.status = 'sent', 'OK', 'isv.MOBILE_NUMBER_ILLEGAL')), NULL, "
        "'bench', r.created_at, IF(r.status IN ('sent', 'delivered', 'call_list'), r.updated_at, NULL), r.updated_at "
        "FROM reminder r JOIN ledger l ON l.id = r.ledger_id",
    )
    step(
        "gateway calls and receipts",
        "INSERT INTO delivery_attempt (message_id, attempt_no, kind, dept_code, channel, gateway, started_at, "
        "finished_at, outcome, response_code, http_status, provider_message_id, request_id, recipient_masked, "
        "body_sha256, run_id) "
        "SELECT m.id, 1, 'send', m.dept_code, 'sms', 'aliyun', m.updated_at, m.updated_at, "
        "IF(m.status = 'call_list' AND m.sent_at IS NULL, 'permanent', 'accepted'), 'OK', 200, "
        "m.provider_message_id, CONCAT('R', m.provider_message_id), m.recipient_masked, m.body_sha256, 'bench' "
        "FROM outbox_message m",
        "INSERT INTO delivery_attempt (message_id, attempt_no, kind, dept_code, channel, gateway, started_at, "
        "finished_at, outcome, response_code, http_status, provider_message_id, request_id, recipient_masked, "
        "body_sha256, run_id) "
        "SELECT m.id, 1, 'receipt', m.dept_code, 'sms', 'aliyun', DATE_ADD(m.updated_at, INTERVAL 5 MINUTE), "
        "DATE_ADD(m.updated_at, INTERVAL 5 MINUTE), IF(m.status = 'delivered', 'delivered', 'undelivered'), "
        "IF(m.status = 'delivered', 'DELIVERED', 'MK:0001'), 200, m.provider_message_id, NULL, "
        "m.recipient_masked, m.body_sha256, 'bench' "
        "FROM outbox_message m WHERE m.status = 'delivered' OR (m.status = 'call_list' AND m.sent_at IS NOT NULL)",
    )
    # a renewal closes a cycle: the old expiry in old_values, the change a day before it
    step(
        "renewals in the history",
        "INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, "
        "new_values, changed_at) "
        "SELECT l.id, l.dept_code, l.licence_no, CONCAT(l.dept_code, ':bench'), 'renewal', "
        "JSON_OBJECT('expiry_date', DATE_FORMAT(DATE_SUB(l.expiry_date, INTERVAL 3 YEAR), '%Y-%m-%d'), "
        "'status', 'valid'), JSON_OBJECT('expiry_date', DATE_FORMAT(l.expiry_date, '%Y-%m-%d'), 'status', 'valid'), "
        "DATE_SUB(DATE_SUB(l.expiry_date, INTERVAL 3 YEAR), INTERVAL 1 DAY) "
        "FROM ledger l WHERE l.id % 25 = 0",
    )
    # call tasks: the newest reminders SMS could not deliver, as many as a city's call staff have
    # in the ledger; those whose licence has not expired are still to be worked (one in four tried
    # again after no answer), the older ones done or closed unworked; one outcome row per attempt
    step(
        f"call tasks ({call_tasks:,}) and their outcomes",
        "INSERT INTO call_task (dept_code, ledger_id, licence_no, expiry_date, stage, reminder_id, message_id, "
        "due_on, reason_code, reason, status, next_try_on, outcome, outcomes, closed_reason, created_run, "
        "created_at, updated_at, closed_at) "
        "SELECT r.dept_code, r.ledger_id, r.licence_no, r.expiry_date, r.stage, r.id, r.message_id, r.due_on, "
        "IF(r.status = 'failed', 'refused', 'undelivered'), "
        "IF(r.status = 'failed', 'permanent: isv.MOBILE_NUMBER_ILLEGAL', 'not delivered: MK:0001'), "
        f"CASE WHEN r.expiry_date >= '{d}' THEN IF(r.id % 4 = 0, 'retry', 'open') "
        "     WHEN r.id % 3 = 0 THEN 'cancelled' ELSE 'done' END, "
        f"IF(r.expiry_date >= '{d}' AND r.id % 4 = 0, DATE_ADD('{d}', INTERVAL r.id % 2 DAY), NULL), "
        f"CASE WHEN r.expiry_date >= '{d}' THEN IF(r.id % 4 = 0, 'no_answer', NULL) WHEN r.id % 3 = 0 THEN NULL "
        "     WHEN r.id % 7 = 0 THEN 'wrong_number' WHEN r.id % 5 = 0 THEN 'reached_not_renewing' "
        "     ELSE 'reached_renewing' END, "
        f"IF(r.expiry_date >= '{d}' AND r.id % 4 <> 0 OR r.expiry_date < '{d}' AND r.id % 3 = 0, 0, 1), "
        f"IF(r.expiry_date < '{d}' AND r.id % 3 = 0, 'licence expired before anyone called', NULL), "
        "'bench', r.updated_at, r.updated_at, "
        f"IF(r.expiry_date < '{d}', DATE_ADD(r.updated_at, INTERVAL 1 DAY), NULL) "
        "FROM reminder r WHERE r.status IN ('call_list', 'failed') "
        f"ORDER BY r.due_on DESC, r.id LIMIT {call_tasks}",
        "INSERT INTO call_outcome (call_task_id, dept_code, outcome, note, retry_on, recorded_by, recorded_at) "
        "SELECT t.id, t.dept_code, t.outcome, IF(t.outcome = 'wrong_number', '空号', NULL), t.next_try_on, "
        "'callstaff', DATE_ADD(t.created_at, INTERVAL 20 HOUR) FROM call_task t WHERE t.outcome IS NOT NULL",
    )
    counts = json.dumps(
        {"rows": 100000, "valid": 99000, "rejected": 1000, **{r: 1000 // len(RULES) for r in RULES}}
    )
    step(
        "sync runs (120 days per department)",
        "INSERT INTO sync_run (run_id, dept_code, mode, status, started_at, finished_at, rows_read, rows_valid, "
        "rows_rejected, inserted, updated, renewed, vanished, quarantine_resolved, counts_by_rule, error) "
        f"SELECT CONCAT(d.code, ':scheduled__', DATE_SUB('{d}', INTERVAL s.seq DAY)), d.code, 'incremental', "
        f"IF(s.seq % 37 = 0, 'failed', 'success'), DATE_ADD(DATE_SUB('{d}', INTERVAL s.seq DAY), INTERVAL 2 HOUR), "
        f"DATE_ADD(DATE_SUB('{d}', INTERVAL s.seq DAY), INTERVAL 125 MINUTE), 100000, 99000, 1000, 20, 300, 30, 2, "
        f"5, '{counts}', NULL FROM department d JOIN seq_0_to_119 s ORDER BY s.seq DESC, d.code",
    )
    return t


def write_reports(folder: Path, departments: int, today: dt.date) -> int:
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for i in range(departments):
        for day in range(120):
            stamp = (today - dt.timedelta(days=day)).isoformat()
            (folder / f"dq_d{i:02d}_scheduled__{stamp}T02-00-00+08-00.html").write_text(
                "<!doctype html><title>数据质量报告</title><p>bench</p>", encoding="utf-8"
            )
            n += 1
    return n


def time_pages(
    runs: int, pages: list[tuple[str, str, dict | None]]
) -> list[tuple[str, float, float, int, int]]:
    from fastapi.testclient import TestClient
    from licence_reminder.ui.access import Viewer
    from licence_reminder.ui.app import create_app
    from licence_reminder.ui.auth import current_viewer

    app = create_app()
    app.dependency_overrides[current_viewer] = lambda: Viewer(
        "bench", lambda method, resource: True
    )
    client = TestClient(app)
    out = []
    for label, path, form in pages:
        times = []
        status = size = 0
        for i in range(runs + 1):
            start = time.perf_counter()
            r = client.post(path, data=form) if form is not None else client.get(path)
            elapsed = time.perf_counter() - start
            status, size = r.status_code, len(r.content)
            if i:
                times.append(elapsed)
        out.append((label, statistics.median(times), max(times), status, size))
        print(
            f"  {label:<52} median {statistics.median(times) * 1000:7.0f} ms   slowest "
            f"{max(times) * 1000:7.0f} ms   ({status}, {size / 1024:,.0f} KiB)",
            flush=True,
        )
    return out


def time_queries(url: str, runs: int, queries: list[tuple[str, str, dict]]) -> None:
    """Statements timed on their own (median and fastest of ``runs`` after a warm-up): the same
    run's load for both sides of a comparison, on a machine others share."""
    from licence_reminder.ui.queries import templated
    from sqlalchemy import text

    engine = engine_from_url(url)
    try:
        with engine.connect() as conn:
            for label, name_or_sql, params in queries:
                # a bare name is a file in include/sql/, anything else a statement
                statement = (
                    templated(name_or_sql, conn) if " " not in name_or_sql else text(name_or_sql)
                )
                times = []
                for i in range(runs + 1):
                    start = time.perf_counter()
                    conn.execute(statement, params).fetchall()
                    if i:
                        times.append(time.perf_counter() - start)
                print(
                    f"  {label:<52} median {statistics.median(times) * 1000:7.0f} ms   fastest "
                    f"{min(times) * 1000:7.0f} ms",
                    flush=True,
                )
    finally:
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--licences", type=int, default=1_000_000)
    parser.add_argument("--departments", type=int, default=10)
    parser.add_argument("--call-tasks", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--buffer-pool-mib", type=int, default=1024)
    parser.add_argument(
        "--keep", action="store_true", help="keep the database (its name is printed)"
    )
    parser.add_argument(
        "--reuse",
        metavar="DATABASE",
        help="time the pages on a database an earlier --keep run filled (migrated to head first)",
    )
    args = parser.parse_args()
    today = local_now().date()
    db = args.reuse or f"lr_bench_ui_{uuid.uuid4().hex[:8]}"
    if not args.reuse:
        mysql(f"CREATE DATABASE `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    url = f"mysql+pymysql://root@127.0.0.1:3306/{db}?charset=utf8mb4"
    try:
        with buffer_pool(args.buffer_pool_mib), tempfile.TemporaryDirectory() as tmp:
            engine = engine_from_url(url)
            schema.upgrade(engine)
            engine.dispose()
            print(
                f"== {'reusing' if args.reuse else 'generating'} the ledger in {db} (MariaDB "
                f"{mysql('SELECT @@version')}, buffer pool "
                f"{int(mysql('SELECT @@GLOBAL.innodb_buffer_pool_size')) >> 20} MiB)",
                flush=True,
            )
            if not args.reuse:
                generate(db, args.licences, args.departments, args.call_tasks, today)
                mysql(
                    "ANALYZE TABLE ledger, reminder, outbox_message, delivery_attempt, ledger_history, sync_run, "
                    "call_task, call_outcome",
                    db,
                )
            sizes = mysql(
                "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM ledger), (SELECT COUNT(*) FROM reminder), "
                "(SELECT COUNT(*) FROM outbox_message), (SELECT COUNT(*) FROM delivery_attempt), "
                "(SELECT COUNT(*) FROM ledger_history), (SELECT COUNT(*) FROM sync_run), "
                "(SELECT COUNT(*) FROM call_task), (SELECT COUNT(*) FROM call_outcome), "
                "(SELECT COUNT(*) FROM department))",
                db,
            ).split()
            print(
                "  rows: ledger {}, reminder {}, outbox_message {}, delivery_attempt {}, ledger_history {}, "
                "sync_run {}, call_task {}, call_outcome {}".format(
                    *(f"{int(n):,}" for n in sizes[:-1])
                )
            )
            reports = Path(tmp) / "reports"
            print(
                f"  data-quality reports: {write_reports(reports, int(sizes[-1]), today):,} files"
            )
            os.environ["AIRFLOW_CONN_LICENCE_LEDGER"] = json.dumps(
                {
                    "conn_type": "mysql",
                    "host": "127.0.0.1",
                    "port": 3306,
                    "login": "root",
                    "schema": db,
                }
            )
            os.environ["LR_REPORT_DIR"] = str(reports)
            os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
            message = mysql("SELECT id FROM outbox_message ORDER BY id LIMIT 1", db)
            licence = mysql("SELECT licence_no FROM reminder ORDER BY id DESC LIMIT 1", db)
            mobile = mysql(
                "SELECT recipient_masked FROM outbox_message ORDER BY id DESC LIMIT 1", db
            )
            called = mysql(
                "SELECT message_id FROM call_task WHERE outcome IS NOT NULL ORDER BY id LIMIT 1", db
            )
            task = mysql(
                "SELECT MAX(id) FROM call_task WHERE dept_code = 'd03' AND outcome IS NOT NULL", db
            )
            quarter = f"{today.year}Q{(today.month - 1) // 3 + 1}"
            last_q = f"{today.year - (today.month <= 3)}Q{((today.month - 1) // 3 - 1) % 4 + 1}"
            print(
                f"== page load times ({args.runs} requests after a warm-up; target < 1 s)",
                flush=True,
            )
            results = time_pages(
                args.runs,
                [
                    ("Today", "/today", None),
                    ("Delivery log (last 7 days, all departments)", "/delivery-log", None),
                    (
                        "Delivery log: one department, 90 days",
                        "/delivery-log",
                        {"dept": "d03", "date_from": str(today - dt.timedelta(days=89))},
                    ),
                    (
                        "Delivery log: a licence number, all time",
                        "/delivery-log",
                        {"licence": licence, "date_from": "2000-01-01"},
                    ),
                    (
                        "Delivery log: a masked mobile, all time",
                        "/delivery-log",
                        {"mobile": mobile, "date_from": "2000-01-01"},
                    ),
                    (
                        "Delivery log: status call list, 30 days",
                        "/delivery-log",
                        {"status": "call_list", "date_from": str(today - dt.timedelta(days=29))},
                    ),
                    ("A message's history", f"/delivery-log/message/{message}", None),
                    (
                        "A message's history with its phone calls",
                        f"/delivery-log/message/{called}",
                        None,
                    ),
                    ("Lapsed without a reminder (last 30 days)", "/delivery-log/lapsed", None),
                    (
                        "Lapsed without a reminder (a year, one dept)",
                        f"/delivery-log/lapsed?dept=d03&date_from={today - dt.timedelta(days=365)}",
                        None,
                    ),
                    (
                        "Quarterly review (this quarter)",
                        f"/review?dept=d03&quarter={quarter}",
                        None,
                    ),
                    ("Quarterly review (last quarter)", f"/review?dept=d03&quarter={last_q}", None),
                    ("Annual assessment (one department)", "/review/annual?dept=d03", None),
                    ("Data-quality reports", "/reports", None),
                    ("Call list (to call now, all departments)", "/call-list", None),
                    (
                        "Call list (one department, every task, page 5)",
                        "/call-list?dept=d03&show=all&page=5",
                        None,
                    ),
                    ("A call task and its outcomes", f"/call-list/task/{task}", None),
                ],
            )
            slow = [r for r in results if r[1] >= 1.0]
            bad = [r for r in results if r[3] != 200]
            print(
                f"== {len(results) - len(slow)} of {len(results)} pages under 1 s (median)"
                + (f"; over: {', '.join(r[0] for r in slow)}" if slow else "")
            )
            print("== not pages (for scale):", flush=True)
            time_pages(
                1,
                [
                    (
                        "export: one department, 30 days, CSV",
                        "/delivery-log/export",
                        {
                            "dept": "d03",
                            "date_from": str(today - dt.timedelta(days=29)),
                            "format": "csv",
                        },
                    ),
                    (
                        "XLSX pack of a quarterly review",
                        f"/review/pack.xlsx?dept=d03&quarter={quarter}",
                        None,
                    ),
                    (
                        "call list XLSX, one department, every task",
                        "/call-list/export",
                        {"dept": "d03", "show": "all"},
                    ),
                ],
            )
            print(
                "== the annual assessment's query against the view it replaced (same run, same load):",
                flush=True,
            )
            time_queries(
                url,
                args.runs,
                [
                    (
                        "v_assessment_yearly, one department",
                        "SELECT * FROM v_assessment_yearly WHERE dept_code = :dept",
                        {"dept": "d03"},
                    ),
                    (
                        "ui_annual_assessment.sql, one department",
                        "ui_annual_assessment",
                        {"dept": "d03"},
                    ),
                ],
            )
            return 1 if bad else 0
    finally:
        if args.keep or args.reuse:
            print(f"kept database {db}")
        else:
            mysql(f"DROP DATABASE IF EXISTS `{db}`")


if __name__ == "__main__":
    sys.exit(main())
