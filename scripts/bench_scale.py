"""Benchmark: province scale — a 10,000,000-licence MariaDB ledger over 100 departments.

    python scripts/bench_scale.py [--rows 10000000] [--departments 100] [--keep] [--runs 3]

Builds (or reuses) the MariaDB database ``lr_bench_scale`` (or ``lr_bench_scale_<rows>`` for
another ``--rows``), migrated to head, and fills it in bulk with SQL from MariaDB's sequence
tables — not through the syncs — then times, on the day the ledger was built for:

- the day's dispatch planning (``dispatch.plan``) and rendering (``dispatch.render_outbox``) for
  every department, and the peak memory (RSS) of the process doing them — each in a fresh child
  process, so that the peak is theirs;
- the dispatch summary (``cli.department_summary``, what ``licence_reminder summary`` prints),
  after taking every department's figures as the syncs and the dispatch would (timed), and
  checked once against a live count;
- the UI's heaviest query (the annual assessment, ``ui_annual_assessment.sql``, for one
  department: the slowest page in ``make bench-ui``);
- parsing ``dags/sync_departments.py`` over a registry folder of 100 department files, in a fresh
  interpreter, against the same over the 3 demo departments in the same run.

The ledger: ``--departments`` departments, each mirrored with a catalogue of the two entries of
the demo ``scjgj`` (working-day and calendar-day leads before a deadline, so the reminder dates
are those the sync would compute); licences expiring evenly over three years, from a year ago to
two years ahead (a 3-year licence renewed on time: about 0.09 % of the ledger reaches each lead
time on a given day); 1 % revoked, 1 % gone from the source, 2 % of those still to expire with a
renewal applied for; contact ID numbers masked with their keyed digests and company codes as
``docs/security.md`` says the ledger holds them; one mobile per holder. Every reminder date
before the day has its reminder, delivered, with its outbox message and gateway call, as earlier
days' runs would have left them, so that the day's planning does one day's work.

Building 10,000,000 rows takes a while (resumable: a run that stops is continued by the next);
the database is kept by default (``--drop`` removes it at the end) and reused when its row count
matches. Each run first removes what an earlier run planned on the day. The server runs with the
1 GiB buffer pool docker-compose.yaml gives the ledger (set for the run and put back). Needs
MariaDB on 127.0.0.1 (root, no password). Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from bench_mariadb import buffer_pool, mysql
from licence_reminder import schema
from licence_reminder.db import engine_from_url

#: the day the ledger is built for (a Tuesday): the day's planning is for this date
TODAY = dt.date(2026, 12, 8)
RUN = "bench:scale-day"
CHUNK = 1_000_000
TEMPLATE_DEPT = "scjgj"
TARGETS = {"planning": 5.0, "summary": 2.0, "dag_parse": 1.0}


def dept_codes(n: int) -> list[str]:
    return [f"d{i:03d}" for i in range(n)]


def write_registry(folder: Path, codes: list[str]) -> Path:
    """A registry folder of one department file (and its extract SQL) and one catalogue per code,
    each the demo ``scjgj``'s with the code changed; returns the departments folder."""
    depts, cats = folder / "departments", folder / "catalogues"
    depts.mkdir(parents=True, exist_ok=True)
    cats.mkdir(parents=True, exist_ok=True)
    dept_text = (ROOT / "include/registry/departments" / f"{TEMPLATE_DEPT}.yaml").read_text(
        encoding="utf-8"
    )
    cat_text = (ROOT / "include/registry/catalogues" / f"{TEMPLATE_DEPT}.yaml").read_text(
        encoding="utf-8"
    )
    extract = (ROOT / "include/sql/sources" / f"{TEMPLATE_DEPT}_extract.sql").read_text(
        encoding="utf-8"
    )
    for i, code in enumerate(codes):
        text = (
            dept_text.replace(f"code: {TEMPLATE_DEPT}", f"code: {code}")
            .replace(f"src_{TEMPLATE_DEPT}", f"src_{code}")
            .replace(f"sql/sources/{TEMPLATE_DEPT}_extract.sql", f"{code}_extract.sql")
            .replace('"0 2 * * *"', f'"{i % 60} {1 + i // 60} * * *"')
        )
        (depts / f"{code}.yaml").write_text(text, encoding="utf-8")
        (depts / f"{code}_extract.sql").write_text(extract, encoding="utf-8")
        (cats / f"{code}.yaml").write_text(
            cat_text.replace(f"department: {TEMPLATE_DEPT}", f"department: {code}"),
            encoding="utf-8",
        )
    return depts


# --------------------------------------------------------------------------- the ledger
def register(url: str, departments: Path) -> list[str]:
    """Mirror every department and its catalogue as its first sync would; returns the licence
    names of the (shared) catalogue."""
    from licence_reminder.registry import catalogue_for, load_department
    from licence_reminder.sync.plan import register_department

    engine = engine_from_url(url)
    names: list[str] = []
    try:
        for path in sorted(departments.glob("*.yaml")):
            catalogue = catalogue_for(path.stem, departments.parent / "catalogues")
            register_department(engine, load_department(path), catalogue)
            names = [e.licence_name for e in catalogue.entries]
    finally:
        engine.dispose()
    return names


def reminder_dates(db: str, departments: Path, first: dt.date, last: dt.date) -> None:
    """``bench_scale_dates``: each catalogue entry's reminder dates for every expiry date in the
    ledger, worked out as the sync does (leads.EntryDates), for the bulk insert to join."""
    from licence_reminder.leads import EntryDates
    from licence_reminder.registry import catalogue_for

    catalogue = catalogue_for(
        min(departments.glob("*.yaml")).stem, departments.parent / "catalogues"
    )
    mysql(
        "DROP TABLE IF EXISTS bench_scale_dates; CREATE TABLE bench_scale_dates (k INT NOT NULL, "
        "expiry_date DATE NOT NULL, first_on DATE NOT NULL, second_on DATE NOT NULL, "
        "PRIMARY KEY (k, expiry_date))",
        db,
    )
    rows = []
    for k, entry in enumerate(catalogue.entries):
        dates = EntryDates(entry)
        day = first
        while day <= last:
            rows.append(
                f"({k}, '{day}', '{dates.reminder_on(day, 1)}', '{dates.reminder_on(day, 2)}')"
            )
            day += dt.timedelta(days=1)
    for i in range(0, len(rows), 2000):
        mysql("INSERT INTO bench_scale_dates VALUES " + ", ".join(rows[i : i + 2000]), db)


def generate(db: str, url: str, rows: int, registry: Path) -> None:
    departments = registry / "departments"
    codes = sorted(p.stem for p in departments.glob("*.yaml"))
    n_depts = len(codes)
    have = int(mysql("SELECT COALESCE(MAX(id), 0) FROM ledger", db))
    names = register(url, departments)
    span_from, span_days = TODAY - dt.timedelta(days=365), 3 * 365
    reminder_dates(db, departments, span_from, span_from + dt.timedelta(days=span_days))
    d = TODAY.isoformat()
    # licence i: department i % D; entry (i // D) % 2; expiry spread evenly by a multiplicative
    # hash over the three years; about 1 % revoked, 1 % vanished and 2 % of the future ones renewal
    # applied, in every department
    entry = f"(s.seq DIV {n_depts}) % 2"
    expiry = f"DATE_ADD('{span_from}', INTERVAL (s.seq * 7919) % {span_days} DAY)"
    name_of = f"ELT({entry} + 1, {', '.join(repr(n) for n in names)})"
    print(f"== ledger: {have:,} of {rows:,} rows present", flush=True)
    for start in range(have + 1, rows + 1, CHUNK):
        end = min(start + CHUNK - 1, rows)
        t = time.perf_counter()
        mysql(
            "SET SESSION unique_checks = 0; "
            "INSERT INTO ledger (id, dept_code, licence_no, licence_name, holder_name, holder_type, holder_code, "
            "contact_name, contact_id_no, contact_mobile, issue_date, expiry_date, status, renewal_applied_on, "
            "source_updated_at, first_reminder_on, second_reminder_on, row_hash, cycle, vanished_at, created_run, "
            "updated_run, created_at, updated_at, contact_id_digest, holder_code_digest, source_hash) "
            f"SELECT s.seq, CONCAT('d', LPAD(s.seq % {n_depts}, 3, '0')), "
            f"CONCAT('JY', LPAD(s.seq, 12, '0')), {name_of}, CONCAT('安阳市持证单位', s.seq, '有限公司'), 'org', "
            "CONCAT('91410500', LPAD(s.seq, 9, '0'), 'X'), '联系人', "
            "CONCAT('410', REPEAT('*', 13), LPAD(s.seq % 100, 2, '0')), "
            "CONCAT('1', ELT(s.seq % 5 + 1, '3', '5', '7', '8', '9'), s.seq % 10, LPAD(s.seq % 100000000, 8, '0')), "
            f"DATE_SUB(x.expiry_date, INTERVAL 3 YEAR), x.expiry_date, "
            "IF((s.seq DIV 100) % 97 = 7, 'revoked', 'valid'), "
            f"IF((s.seq DIV 100) % 47 = 11 AND x.expiry_date >= '{d}', DATE_SUB('{d}', INTERVAL s.seq % 20 DAY), NULL), "
            "DATE_SUB(x.expiry_date, INTERVAL 3 YEAR), x.first_on, x.second_on, MD5(s.seq), 1, "
            f"IF((s.seq DIV 100) % 89 = 3, DATE_SUB('{d}', INTERVAL s.seq % 200 DAY), NULL), 'bench:scale', 'bench:scale', "
            "DATE_SUB(x.expiry_date, INTERVAL 3 YEAR), NOW(), "
            "CONCAT('key01:', MD5(CONCAT('id-', s.seq))), NULL, MD5(s.seq) "
            f"FROM seq_{start}_to_{end} s "
            f"JOIN bench_scale_dates x ON x.k = {entry} AND x.expiry_date = {expiry}",
            db,
        )
        print(f"  ledger rows {start:,}-{end:,}: {time.perf_counter() - t:.0f} s", flush=True)
    if have < rows or not int(mysql("SELECT COUNT(*) FROM reminder", db)):
        history(db)
    mysql("DROP TABLE IF EXISTS bench_scale_dates", db)


def history(db: str) -> None:
    """What earlier days' runs left: every reminder date before the day has its reminder,
    delivered, its message and its gateway call — for the cycles expiring from 60 days before the
    day to 120 days after it (older cycles are the history the UI's reports read; later ones have
    no reminder day before the day: the catalogue's longest lead is 90 days)."""
    d = TODAY.isoformat()
    steps = [
        (
            "reminders",
            (
                "INSERT INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel, due_on, "
                "planned_run, status, status_reason, message_id, created_at, updated_at) "
                "SELECT l.id, l.dept_code, l.licence_no, 1, l.expiry_date, g.seq, 'sms', "
                "IF(g.seq = 1, l.first_reminder_on, l.second_reminder_on), 'bench:scale', "
                "IF((l.id + g.seq) % 20 = 0, 'call_list', 'delivered'), NULL, MD5(CONCAT(l.id, '-', g.seq)), "
                "IF(g.seq = 1, l.first_reminder_on, l.second_reminder_on), "
                "DATE_ADD(IF(g.seq = 1, l.first_reminder_on, l.second_reminder_on), INTERVAL 10 HOUR) "
                "FROM ledger l FORCE INDEX (ix_ledger_expiry) JOIN seq_1_to_2 g "
                f"WHERE l.expiry_date >= DATE_SUB('{d}', INTERVAL 60 DAY) AND l.expiry_date < DATE_ADD('{d}', INTERVAL 120 DAY) "
                "AND l.vanished_at IS NULL AND l.status = 'valid' "
                f"AND IF(g.seq = 1, l.first_reminder_on, l.second_reminder_on) < '{d}' "
                "AND (l.renewal_applied_on IS NULL OR l.renewal_applied_on > IF(g.seq = 1, l.first_reminder_on, "
                "l.second_reminder_on))"
            ),
        ),
        (
            "outbox messages",
            (
                "INSERT INTO outbox_message (id, dept_code, channel, gateway, gateway_conn_id, recipient, "
                "recipient_masked, template_name, template_code, params, body, body_sha256, body_length, segments, "
                "status, shard, attempts, next_attempt_at, provider_message_id, last_code, last_message, run_id, "
                "created_at, sent_at, updated_at) "
                "SELECT r.message_id, r.dept_code, 'sms', 'aliyun', 'sms_gateway', l.contact_mobile, "
                "CONCAT(LEFT(l.contact_mobile, 3), '****', RIGHT(l.contact_mobile, 4)), "
                "CONCAT(r.dept_code, '.spjy.stage', r.stage), 'SMS_1', '{}', '', SHA2(r.message_id, 256), 120, 2, "
                "r.status, 0, 1, NULL, CONCAT('P', r.id), IF(r.status = 'delivered', 'DELIVERED', 'MK:0001'), NULL, "
                "'bench:scale', r.created_at, r.created_at, r.updated_at "
                "FROM reminder r JOIN ledger l ON l.id = r.ledger_id"
            ),
        ),
        (
            "gateway calls",
            (
                "INSERT INTO delivery_attempt (message_id, attempt_no, kind, dept_code, channel, gateway, started_at, "
                "finished_at, outcome, response_code, http_status, provider_message_id, request_id, recipient_masked, "
                "body_sha256, run_id) "
                "SELECT m.id, 1, 'send', m.dept_code, 'sms', 'aliyun', m.created_at, m.created_at, 'accepted', 'OK', 200, "
                "m.provider_message_id, CONCAT('R', m.provider_message_id), m.recipient_masked, m.body_sha256, "
                "'bench:scale' FROM outbox_message m"
            ),
        ),
    ]
    for label, statement in steps:
        t = time.perf_counter()
        mysql(statement, db)
        print(f"  {label}: {time.perf_counter() - t:.0f} s", flush=True)


def planner_state(db: str) -> None:
    """What the earlier days' planning left on the ledger (``next_check_on``, migration 0025):
    each valid cycle waits for its next reminder day from the day on, any other is parked; and
    the day's range (the cycles due on it) kept aside, for each run to start from."""
    if int(
        mysql(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() "
            "AND table_name = 'bench_scale_due'",
            db,
        )
    ):
        return
    d = TODAY.isoformat()
    t = time.perf_counter()
    mysql(
        "UPDATE ledger SET next_check_on = CASE "
        f"WHEN status <> 'valid' OR vanished_at IS NOT NULL OR expiry_date < '{d}' THEN '9999-12-31' "
        f"WHEN first_reminder_on >= '{d}' THEN first_reminder_on "
        f"WHEN second_reminder_on >= '{d}' THEN second_reminder_on ELSE '9999-12-31' END; "
        "CREATE TABLE bench_scale_due (id BIGINT NOT NULL PRIMARY KEY, next_check_on DATE NULL); "
        "INSERT INTO bench_scale_due SELECT id, next_check_on FROM ledger FORCE INDEX (ix_ledger_next_check) "
        f"WHERE next_check_on IS NULL OR next_check_on <= '{d}'",
        db,
    )
    print(
        f"  the planner's state as earlier days left it: {time.perf_counter() - t:.0f} s",
        flush=True,
    )


# --------------------------------------------------------------------------- timings
def reset_day(db: str) -> None:
    """Forget what an earlier run planned and rendered on the day, so that this one does the
    day's work again: its reminders and messages, and the next check days it moved."""
    mysql(
        f"DELETE FROM outbox_message WHERE run_id = '{RUN}'; DELETE FROM reminder WHERE planned_run = '{RUN}'; "
        "UPDATE bench_scale_due b STRAIGHT_JOIN ledger l ON l.id = b.id SET l.next_check_on = b.next_check_on",
        db,
    )


def dispatch_phase(url: str) -> dict[str, float]:
    """The day's planning and rendering, in this (fresh) process: seconds, counts, peak RSS."""
    from licence_reminder import dispatch

    engine = engine_from_url(url)
    profile = dispatch.GatewayProfile(
        conn_id="sms_gateway", provider="aliyun", sign_name="安阳市政务服务", templates={}
    )
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    planned = dispatch.plan(engine, today=TODAY, run_id=RUN)
    t_plan = time.perf_counter() - t
    rss_plan = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t = time.perf_counter()
    rendered = dispatch.render_outbox(
        engine, today=TODAY, run_id=RUN, profile_for=lambda _: profile
    )
    t_render = time.perf_counter() - t
    engine.dispose()
    return {
        "plan_s": t_plan,
        "render_s": t_render,
        "planned": planned.get("planned", 0),
        "cancelled": planned.get("cancelled", 0),
        "messages": rendered.get("messages", 0),
        "rejected": rendered.get("rejected", 0),
        "rss_start_mib": rss_before / 1024,
        "rss_plan_mib": rss_plan / 1024,
        "rss_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def child(*args: str, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def dag_parse_phase() -> dict[str, float]:
    """Parse dags/sync_departments.py as the DAG processor does (a DagBag of the one file), in
    this fresh interpreter: the Airflow modules the file imports are imported before the clock
    starts, as the processor does ([dag_processor] parsing_pre_import_modules), after freezing
    the objects already loaded, as its manager does before it forks any parse (gc.freeze)."""
    import gc
    import importlib

    from airflow.dag_processing.dagbag import DagBag
    from airflow.utils.file import iter_airflow_imports

    dag_file = str(ROOT / "dags" / "sync_departments.py")
    # Without it the parse paid one full collection of the ~190,000 objects Airflow's imports
    # leave (about 0.12 s of CPU, a quarter of it at 100 departments), which the processor's
    # parses do not: DagFileProcessorManager freezes its heap before its parsing loop.
    gc.freeze()
    for module in iter_airflow_imports(dag_file):
        importlib.import_module(module)
    t, cpu = time.perf_counter(), time.process_time()
    bag = DagBag(dag_folder=dag_file)
    secs, cpu = time.perf_counter() - t, time.process_time() - cpu
    if bag.import_errors:
        raise SystemExit(f"import errors: {bag.import_errors}")
    return {
        "parse_s": secs,
        "cpu_s": cpu,  # steadier than the wall time on a loaded machine
        "dags": len(bag.dags),
        "broken": sum("config-error" in (d.tags or ()) for d in bag.dags.values()),
    }


def take_figures(url: str, parts: tuple[str, ...]) -> tuple[float, float, int]:
    """Every department's summary figures taken as its sync (both parts) or the dispatch's last
    task (its part) takes them (``figures.refresh``): seconds in all, the slowest department's,
    and how many departments. The bulk build bypasses the syncs, so the summary needs this."""
    from licence_reminder import figures

    engine = engine_from_url(url)
    try:
        t = time.perf_counter()
        took = figures.refresh(engine, figures.department_codes(engine), parts=parts)
        return time.perf_counter() - t, max(took.values(), default=0.0), len(took)
    finally:
        engine.dispose()


def same_as_live(url: str) -> bool:
    """The summary from the figures is what a live count of every table says (once, slow)."""
    from licence_reminder.cli import department_summary

    engine = engine_from_url(url)
    try:
        kept, live = (
            [
                {k: v for k, v in r.items() if k != "figures_taken_at"}
                for r in department_summary(engine, price=0.045, today=TODAY, live=live)
            ]
            for live in (False, True)
        )
        return kept == live
    finally:
        engine.dispose()


def time_summary(url: str, runs: int) -> tuple[list[float], int]:
    from licence_reminder.cli import department_summary

    engine = engine_from_url(url)
    times, n = [], 0
    try:
        for i in range(runs + 1):
            t = time.perf_counter()
            n = len(department_summary(engine, price=0.045, today=TODAY))
            if i:
                times.append(time.perf_counter() - t)
    finally:
        engine.dispose()
    return times, n


def time_ui_query(url: str, runs: int, dept: str) -> tuple[list[float], int]:
    from licence_reminder.ui.queries import templated

    engine = engine_from_url(url)
    times, n = [], 0
    try:
        with engine.connect() as conn:
            statement = templated("ui_annual_assessment", conn)
            for i in range(runs + 1):
                t = time.perf_counter()
                n = len(conn.execute(statement, {"dept": dept}).fetchall())
                if i:
                    times.append(time.perf_counter() - t)
    finally:
        engine.dispose()
    return times, n


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "MISS"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=10_000_000, help="licences in the ledger")
    parser.add_argument("--departments", type=int, default=100)
    parser.add_argument(
        "--runs", type=int, default=3, help="timed repetitions (after a warm-up where it applies)"
    )
    parser.add_argument(
        "--dispatch-runs",
        type=int,
        default=1,
        help="repetitions of the day's dispatch (minutes each)",
    )
    parser.add_argument(
        "--memory-mib", type=int, default=1024, help="the dispatch process's peak RSS target"
    )
    parser.add_argument("--buffer-pool-mib", type=int, default=1024)
    parser.add_argument("--drop", action="store_true", help="drop the database at the end")
    parser.add_argument("--phase", choices=("dispatch", "dag-parse"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "dispatch":
        print(json.dumps(dispatch_phase(args.url)))
        return 0
    if args.phase == "dag-parse":
        print(json.dumps(dag_parse_phase()))
        return 0

    db = "lr_bench_scale" if args.rows == 10_000_000 else f"lr_bench_scale_{args.rows}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{db}?charset=utf8mb4"
    mysql(f"CREATE DATABASE IF NOT EXISTS `{db}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    tmp = Path(tempfile.mkdtemp(prefix="bench_scale_"))
    try:
        with buffer_pool(args.buffer_pool_mib):
            engine = engine_from_url(url)
            schema.upgrade(engine)
            engine.dispose()
            codes = dept_codes(args.departments)
            registry = write_registry(tmp / "registry", codes)
            have = int(mysql("SELECT COUNT(*) FROM ledger", db))
            if have > args.rows:
                raise SystemExit(
                    f"{db} holds {have:,} licences, more than --rows {args.rows:,}: drop it first"
                )
            print(
                f"== {db}: MariaDB {mysql('SELECT @@version')}, buffer pool "
                f"{int(mysql('SELECT @@GLOBAL.innodb_buffer_pool_size')) >> 20} MiB; the day: {TODAY}",
                flush=True,
            )
            if have < args.rows or not int(
                mysql("SELECT COUNT(*) FROM reminder", db)
            ):  # or no history yet
                t = time.perf_counter()
                generate(db, url, args.rows, registry.parent)
                print(f"  built in {time.perf_counter() - t:.0f} s", flush=True)
            planner_state(db)
            mysql(
                "ANALYZE TABLE ledger, reminder, outbox_message, delivery_attempt, catalogue_entry",
                db,
            )
            sizes = mysql(
                "SELECT CONCAT_WS(' ', (SELECT COUNT(*) FROM ledger), (SELECT COUNT(*) FROM department), "
                "(SELECT COUNT(*) FROM catalogue_entry), (SELECT COUNT(*) FROM reminder), "
                "(SELECT COUNT(*) FROM outbox_message), (SELECT COUNT(*) FROM delivery_attempt))",
                db,
            ).split()
            print(
                "  rows: ledger {}, department {}, catalogue_entry {}, reminder {}, outbox_message {}, "
                "delivery_attempt {}".format(*(f"{int(n):,}" for n in sizes)),
                flush=True,
            )
            due = mysql(
                f"SELECT CONCAT_WS(' ', SUM(first_reminder_on = '{TODAY}'), SUM(second_reminder_on = '{TODAY}')) "
                f"FROM ledger WHERE expiry_date >= '{TODAY}'",
                db,
            ).split()
            print(
                f"  reminder dates on the day: stage 1 {int(due[0]):,}, stage 2 {int(due[1]):,}",
                flush=True,
            )

            print(
                f"== the day's dispatch ({args.dispatch_runs} run(s), each in a fresh process after removing "
                "what an earlier run planned on the day)",
                flush=True,
            )
            runs = []
            for _ in range(args.dispatch_runs):
                reset_day(db)
                r = child("--phase", "dispatch", "--url", url)
                runs.append(r)
                print(
                    f"  planned {r['planned']:,} reminders ({r['cancelled']:,} cancelled) in {r['plan_s']:.2f} s, "
                    f"rendered {r['messages']:,} messages ({r['rejected']:,} rejected) in {r['render_s']:.2f} s; "
                    f"RSS {r['rss_start_mib']:.0f} MiB at the start, {r['rss_plan_mib']:.0f} after planning, "
                    f"{r['rss_peak_mib']:.0f} peak",
                    flush=True,
                )
            for label, parts in (
                ("as each department's sync takes them", ("ledger", "dispatch")),
                ("the dispatch's part, as its last task takes it", ("dispatch",)),
            ):
                secs, slowest, n = take_figures(url, parts)
                print(
                    f"== the summary's figures, {label}: {n} departments in {secs:.2f} s "
                    f"(slowest {slowest:.2f} s)",
                    flush=True,
                )
            print(f"== the summary ({args.runs} runs after a warm-up)", flush=True)
            summary, n_summary = time_summary(url, args.runs)
            print(
                f"  {n_summary} departments: " + " / ".join(f"{s:.2f} s" for s in summary),
                flush=True,
            )
            t = time.perf_counter()
            same = same_as_live(url)
            print(
                f"  the same figures as a live count of every table (summary --live, "
                f"{time.perf_counter() - t:.1f} s with the summary): {'yes' if same else 'NO'}",
                flush=True,
            )
            print(
                f"== the UI's heaviest query: the annual assessment, department d003 ({args.runs} runs after a "
                "warm-up)",
                flush=True,
            )
            ui, n_ui = time_ui_query(url, args.runs, "d003")
            print(f"  {n_ui} rows: " + " / ".join(f"{s:.2f} s" for s in ui), flush=True)

            print(
                f"== DAG parse: dags/sync_departments.py, each in a fresh interpreter ({args.runs} runs)",
                flush=True,
            )
            small = write_registry(tmp / "registry3", dept_codes(3))
            parses: dict[int, list[dict]] = {3: [], len(codes): []}
            for _ in range(args.runs):
                for n, folder in ((3, small), (len(codes), registry)):
                    parses[n].append(
                        child(
                            "--phase",
                            "dag-parse",
                            env={
                                "PYTHONPATH": str(ROOT / "include"),
                                "LR_REGISTRY_DIR": str(folder),
                                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                            },
                        )
                    )
            for n, ps in parses.items():
                print(
                    f"  {n:>3} department files: {ps[0]['dags']} DAGs ({ps[0]['broken']} broken): "
                    + " / ".join(f"{p['parse_s']:.2f} s" for p in ps),
                    flush=True,
                )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if args.drop:
            mysql(f"DROP DATABASE IF EXISTS `{db}`")
        else:
            print(f"kept database {db}")

    plan_s = statistics.median(r["plan_s"] for r in runs)
    render_s = statistics.median(r["render_s"] for r in runs)
    peak = max(r["rss_peak_mib"] for r in runs)
    parse_big = statistics.median(p["parse_s"] for p in parses[len(codes)])
    parse_small = statistics.median(p["parse_s"] for p in parses[3])
    rows = [
        (
            "planning (dispatch.plan, one day)",
            f"{plan_s:.2f} s",
            "< 5 s",
            verdict(plan_s, TARGETS["planning"]),
        ),
        ("rendering (render_outbox, the day's messages)", f"{render_s:.2f} s", "-", ""),
        (
            "summary (cli.department_summary, 100 departments)",
            f"{statistics.median(summary):.2f} s",
            "< 2 s",
            verdict(statistics.median(summary), TARGETS["summary"]),
        ),
        (
            "UI's heaviest query (annual assessment, one dept)",
            f"{statistics.median(ui):.2f} s",
            "< 1 s",
            verdict(statistics.median(ui), 1.0),
        ),
        (
            f"DAG parse, {len(codes)} department files",
            f"{parse_big:.2f} s",
            "< 1 s",
            verdict(parse_big, TARGETS["dag_parse"]),
        ),
        ("DAG parse, 3 department files (baseline)", f"{parse_small:.2f} s", "-", ""),
        (
            "peak RSS of planning + rendering",
            f"{peak:,.0f} MiB",
            f"< {args.memory_mib:,} MiB",
            verdict(peak, args.memory_mib),
        ),
    ]
    print(f"\n== {int(sizes[0]):,} licences, {len(codes)} departments (medians)")
    for label, value, target, ok in rows:
        print(f"  {label:<52} {value:>10}   target {target:<10} {ok}")
    return 0 if all(r[3] != "MISS" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
