"""Benchmark: a department's sync into the MariaDB ledger against the engine's own limit.

    python scripts/bench_sync.py [--rows 1000000] [--buffer-pool 1G] [--redo-log 512M] [--no-naive]

In one run, on the same machine: (1) the `mariadb` client dumping the source table plus LOAD DATA
of that dump into a copy — the engine's limit; for scale, the naive approach the issue names
(PyMySQL stream, ``executemany`` upserts into a copy of the ledger table, nothing validated);
(2) a full sync (read → validate → compare → load and merge) into an empty MariaDB ledger; (3) a
full reconciliation with nothing changed; (4) an incremental sync with 1% of rows changed. The
department is the demo `scjgj` as registered. Prints rows/s, ratios, where the time went and peak
memory. Needs MariaDB on 127.0.0.1 (root, no password). Not a test.

``--buffer-pool`` and ``--redo-log`` set the server's InnoDB buffer pool and redo log for the run
(1 GiB and 512 MiB, as docker-compose.yaml gives the ledger; the defaults, 128 MiB and 96 MiB,
are far smaller than a ledger and a run of a million rows) and put the old sizes back
afterwards: the engine limit is measured with the same settings. ``0`` leaves the server as is.

The source is generated in one child process and measured in another: Linux keeps a process's peak
RSS across fork and exec, so a measuring process forked from the generator would report the
generator's. Peak memory is the PSS of the measuring process (connectorx reads in threads of it),
sampled in runs of their own: sampling takes CPU from the timed runs.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

import json
import os

from licence_reminder import protect, schema, sync

# The demo source holds contact ID numbers: the ledger keeps their keyed digests (docs/security.md),
# so a run needs a key ring; a throwaway one unless the environment names one.
os.environ.setdefault(
    "AIRFLOW_CONN_LR_PII_KEYS",
    json.dumps({"conn_type": "generic", "extra": protect.new_key_ring("bench1")}),
)
from licence_reminder.db import engine_from_url
from licence_reminder.demo.sources import build_rows, create_source_schema
from licence_reminder.records import CANONICAL_COLUMNS, REQUIRED_COLUMNS
from licence_reminder.registry import Department, catalogue_for, load_department
from licence_reminder.sync import plan as planning

TODAY = dt.date(2026, 11, 24)


def mysql(*sql: str, db: str = "") -> None:
    for s in sql:
        subprocess.run(
            ["mariadb", "-h127.0.0.1", "-uroot", *([db] if db else []), "-e", s], check=True
        )


def server_variable(name: str) -> str:
    out = subprocess.run(
        [
            "mariadb",
            "-h127.0.0.1",
            "-uroot",
            "--batch",
            "--skip-column-names",
            "-e",
            f"SELECT @@GLOBAL.{name}",
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


@contextlib.contextmanager
def server_setting(variable: str, size: str, what: str):  # type: ignore[no-untyped-def]
    """The server's ``variable`` at ``size`` (dynamic in MariaDB 10.11) for the block, then as it
    was; ``0`` leaves it as it is."""
    if size in ("", "0"):
        yield
        return
    before = server_variable(variable)
    units = {"K": 2**10, "M": 2**20, "G": 2**30}
    wanted = int(size[:-1]) * units[size[-1].upper()] if size[-1].upper() in units else int(size)
    mysql(f"SET GLOBAL {variable} = {wanted}")
    print(
        f"{what} for this run: {int(server_variable(variable)) / 2**20:,.0f} MiB "
        f"(was {int(before) / 2**20:,.0f} MiB; put back afterwards)",
        flush=True,
    )
    try:
        yield
    finally:
        mysql(f"SET GLOBAL {variable} = {int(before)}")


def url(db: str) -> str:
    return f"mysql+pymysql://root@127.0.0.1/{db}?charset=utf8mb4"


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{label:<48} {secs:8.2f} s   (peak RSS so far {own:,} MiB)", flush=True)
    return secs, out


def seed(src_db: str, rows: int) -> None:
    src = engine_from_url(url(src_db))
    table = create_source_schema(src, "scjgj")
    generated = build_rows("scjgj", today=TODAY, n=rows, seed=1, invalid_ratio=0.01)
    with src.begin() as conn:
        for i in range(0, len(generated), 20_000):
            conn.execute(table.insert(), [r.native for r in generated[i : i + 20_000]])
    src.dispose()
    print(f"source: {rows:,} rows (scjgj schema) in MariaDB", flush=True)


class TreeMemory(threading.Thread):
    """Samples the proportional set size (PSS) of this process and all its descendants: shared
    pages are split between the processes sharing them, so the sum is what the sync really holds.

    Reading a process's PSS makes the kernel walk its page tables: at five samples a second over
    three processes that took a fifth of a core, so the timed runs go without it and the memory
    is measured in runs of their own."""

    def __init__(self, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.interval = interval

    def run(self) -> None:
        import psutil

        me = psutil.Process()
        while True:
            total = 0
            for proc in [me, *me.children(recursive=True)]:
                with contextlib.suppress(psutil.Error):
                    total += proc.memory_full_info().pss
            self.peak = max(self.peak, total)
            time.sleep(self.interval)


def naive_sync(src_db: str, ledger_db: str, dept: Department) -> None:
    """The issue's point of scale: the department's extract streamed through PyMySQL and upserted
    by ``executemany`` batches of 1,000 into a copy of the ledger table, committed per batch. It
    validates nothing (rows missing a NOT NULL value are skipped so the batch can go in), keeps no
    history or quarantine, and a failure part-way leaves what was already committed."""
    import pymysql
    import pymysql.cursors

    columns = [c for c in CANONICAL_COLUMNS if c not in dept.source.constants]
    required = [k for k, c in enumerate(columns) if c in REQUIRED_COLUMNS]
    fixed = {
        "dept_code": dept.code,
        "row_hash": "-",
        "created_run": "naive",
        "updated_run": "naive",
    }
    names = [*columns, *dept.source.constants, *fixed, "created_at", "updated_at"]
    insert = (
        f"INSERT INTO naive_ledger ({', '.join(names)}) "
        f"VALUES ({', '.join(['%s'] * len(names))}) ON DUPLICATE KEY UPDATE "
        + ", ".join(f"{c} = VALUES({c})" for c in columns if c != "licence_no")
    )
    extract = (
        f"SELECT {', '.join(columns)} FROM ({dept.extract_sql_text().strip().rstrip(';')}) src"
    )
    mysql("CREATE TABLE naive_ledger LIKE ledger", db=ledger_db)
    read = pymysql.connect(host="127.0.0.1", user="root", database=src_db, charset="utf8mb4")
    write = pymysql.connect(host="127.0.0.1", user="root", database=ledger_db, charset="utf8mb4")
    try:
        now = dt.datetime.now().replace(microsecond=0)
        tail = (*dept.source.constants.values(), *fixed.values(), now, now)
        with read.cursor(pymysql.cursors.SSCursor) as cur, write.cursor() as out:
            cur.execute(extract)
            while batch := cur.fetchmany(1_000):
                out.executemany(
                    insert,
                    [(*row, *tail) for row in batch if all(row[k] is not None for k in required)],
                )
                write.commit()
    finally:
        read.close()
        write.close()
        mysql("DROP TABLE naive_ledger", db=ledger_db)


def measure(src_db: str, ledger_db: str, rows: int, *, naive: bool = True) -> None:
    src, ledger = engine_from_url(url(src_db)), engine_from_url(url(ledger_db))
    schema.upgrade(ledger)

    def engine_limit() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "dump.tsv"
            with dump.open("wb") as f:
                subprocess.run(
                    [
                        "mariadb",
                        "-h127.0.0.1",
                        "-uroot",
                        "--batch",
                        "--skip-column-names",
                        "--quick",
                        src_db,
                        "-e",
                        "SELECT * FROM scjg_xkz",
                    ],
                    stdout=f,
                    check=True,
                )
            mysql(
                "DROP TABLE IF EXISTS copy_xkz",
                "CREATE TABLE copy_xkz LIKE scjg_xkz",
                f"LOAD DATA LOCAL INFILE '{dump}' INTO TABLE copy_xkz",
                "DROP TABLE copy_xkz",
                db=src_db,
            )

    limits = [timed("engine limit: mariadb dump + LOAD DATA", engine_limit)[0]]

    dept = load_department(ROOT / "include/registry/departments/scjgj.yaml")
    cat = catalogue_for("scjgj", ROOT / "include/registry/catalogues")
    naive_secs = (
        timed(
            "(reference) naive: PyMySQL stream + executemany upserts",
            lambda: naive_sync(src_db, ledger_db, dept),
        )[0]
        if naive
        else float("nan")
    )
    planning.register_department(ledger, dept, cat)
    from licence_reminder.validation.suite import gx_batch_definition

    timed("(once per task process: import GX, make its context)", gx_batch_definition)
    # an Airflow task process has the SDK imported before the task runs; the key ring's
    # connection lookup would otherwise import it inside the first timed sync
    timed("(once per task process: import Airflow's SDK, read the key ring)", protect.key_ring)
    print(
        f"   split_column {dept.source.sync.split_column}, chunk_size {dept.source.sync.chunk_size:,}"
    )

    def run(run_id: str, full: bool, into: Any = ledger) -> sync.RunResult:
        plan = planning.start_run(into, dept, run_id=run_id, logical_date=TODAY, force_full=full)
        result = sync.run(into, src, dept, cat, plan, today=TODAY)
        t = result.timings
        print(
            f"   read, validated and compared {t['produce']:.2f} s (loading meanwhile), then loading "
            f"what was queued {t['loading']:.2f} s, merge and commit {t['merge']:.2f} s"
        )
        return result

    full, result = timed("full sync into an empty ledger (committed)", lambda: run("b:full", True))
    print(
        f"   read {result.stats.rows_read:,}, valid {result.stats.rows_valid:,}, "
        f"inserted {result.published.inserted:,}"
    )

    def ledger_floor() -> None:
        mysql(
            "DROP TABLE IF EXISTS floor_ledger",
            "CREATE TABLE floor_ledger LIKE ledger",
            "INSERT INTO floor_ledger SELECT * FROM ledger",
            "DROP TABLE floor_ledger",
            db=ledger_db,
        )

    floor = timed("floor: the ledger's rows into an empty ledger table", ledger_floor)[0]
    print(
        "   (INSERT … SELECT on the server: its indexes, no parsing, no network; a first load "
        "cannot be faster)"
    )
    recon, result = timed("full reconciliation, nothing changed", lambda: run("b:recon", True))
    print(
        f"   read {result.stats.rows_read:,}, staged {result.stats.staged:,}, "
        f"updated {result.published.updated:,}"
    )
    changed = max(1, rows // 100)
    with src.begin() as conn:
        # a real change every time, also on a source kept from an earlier run (--keep-source)
        conn.exec_driver_sql(
            f"UPDATE scjg_xkz SET lxdh = CONCAT(IF(LEFT(lxdh, 3) = '139', '138', '139'), "
            f"SUBSTRING(lxdh, 4)), gxsj = NOW() WHERE id <= {changed}"
        )
    incr, result = timed(
        f"incremental sync, {changed:,} rows changed", lambda: run("b:incr", False)
    )
    print(f"   read {result.stats.rows_read:,}, updated {result.published.updated:,}")
    limits.append(timed("engine limit again, after the syncs", engine_limit)[0])
    base = min(limits)  # the engine at its best in this run: the stricter ratio

    print("memory: the full sync and the reconciliation again, into a new ledger, sampled")
    tree = TreeMemory()
    tree.start()
    memory_db = f"{ledger_db}_m"
    mysql(f"CREATE DATABASE {memory_db} CHARACTER SET utf8mb4")
    try:
        second = engine_from_url(url(memory_db))
        schema.upgrade(second)
        planning.register_department(second, dept, cat)
        timed("   full sync (sampled)", lambda: run("m:full", True, second))
        timed("   full reconciliation (sampled)", lambda: run("m:recon", True, second))
        second.dispose()
    finally:
        mysql(f"DROP DATABASE IF EXISTS {memory_db}")
    # after the memory runs: its frames would stay in this process's heap, counted in their PSS
    load_floor = load_data_floor(ledger, ledger_db)
    print(
        f"floor: the ledger's rows LOAD DATA into an empty ledger {load_floor:8.2f} s\n"
        "   (the sync's own statement and file text, one transaction; files written untimed)",
        flush=True,
    )
    print(f"\nengine limit {limits[0]:.2f} s and {limits[1]:.2f} s; ratios below are to the faster")
    print(
        f"rows/s: engine limit {rows / base:,.0f}; naive reference {rows / naive_secs:,.0f}; "
        f"full sync {rows / full:,.0f}; full reconciliation {rows / recon:,.0f}"
    )
    print(
        f"ratio full sync / engine limit: {full / base:.2f}x until committed (target 1.5x; the naive "
        f"reference {naive_secs / base:.2f}x); reconciliation / engine limit: {recon / base:.2f}x "
        f"(target 1.2x); incremental day: {incr:.2f} s (target < 3 s)"
    )
    print(
        f"floor (the ledger's own rows written into an empty ledger table) {floor:.2f} s = "
        f"{floor / base:.2f}x the engine limit; full sync / floor: {full / floor:.2f}x"
    )
    print(
        f"floor (the ledger's own rows LOAD DATA into an empty ledger) {load_floor:.2f} s = "
        f"{load_floor / base:.2f}x the engine limit; full sync / that floor: "
        f"{full / load_floor:.2f}x (issue 17: within 1.10x when the floor is over 1.5x)"
    )
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the sync process: {own:,.0f} MiB")
    print(f"peak PSS of the sync process: {tree.peak / 2**20:,.0f} MiB (target < 1,024 MiB)")


def load_data_floor(ledger: Any, ledger_db: str) -> float:
    """Issue 17's floor: the ledger's own rows LOAD DATA into an empty ledger table — written as
    the sync writes them (rows.prepare, 50,000 a file), loaded by the sync's own statement in one
    transaction; only the loading is timed."""
    import pandas as pd
    import sqlalchemy as sa
    from licence_reminder.db import sql_source
    from licence_reminder.sync import rows

    statement = sql_source("ledger_load", ledger)
    columns = [c.strip() for c in statement.split("\n(", 1)[1].split(")", 1)[0].split(",")]
    target_db = f"{ledger_db}_floor"
    mysql(f"CREATE DATABASE {target_db} CHARACTER SET utf8mb4")
    try:
        target = engine_from_url(url(target_db))
        schema.upgrade(target)
        with tempfile.TemporaryDirectory() as tmp:
            staged, after = [], 0
            with ledger.connect() as conn:
                while True:
                    got = conn.execute(
                        sa.text(
                            f"SELECT id, {', '.join(columns)} FROM ledger WHERE id > :after "
                            "ORDER BY id LIMIT 50000"
                        ),
                        {"after": after},
                    ).fetchall()
                    if not got:
                        break
                    after = got[-1][0]
                    frame = pd.DataFrame([r[1:] for r in got], columns=columns, dtype=object)
                    staged.append(rows.prepare("ledger", frame, bulk=True, folder=Path(tmp)))
            constants = {"run_id": "floor", "dept_code": "scjgj", "now": dt.datetime.now()}
            started = time.perf_counter()
            with target.begin() as conn:
                for item in staged:
                    rows.load(conn, item, constants)
            secs = time.perf_counter() - started
        target.dispose()
        return secs
    finally:
        mysql(f"DROP DATABASE IF EXISTS {target_db}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--buffer-pool", default="1G", help="InnoDB buffer pool for the run (0: as is)")
    ap.add_argument(
        "--redo-log", default="512M", help="InnoDB redo log size for the run (0: as is)"
    )
    ap.add_argument(
        "--no-naive", action="store_true", help="skip the naive reference (a minute at 1M rows)"
    )
    ap.add_argument(
        "--keep-source",
        metavar="DB",
        help="seed the source into DB and keep it, or reuse it if it holds --rows rows",
    )
    ap.add_argument("--seed", metavar="SOURCE_DB", help=argparse.SUPPRESS)
    ap.add_argument(
        "--measure", nargs=2, metavar=("SOURCE_DB", "LEDGER_DB"), help=argparse.SUPPRESS
    )
    args = ap.parse_args()
    if args.seed:
        seed(args.seed, args.rows)
        return 0
    if args.measure:
        measure(*args.measure, args.rows, naive=not args.no_naive)
        return 0
    tag = uuid.uuid4().hex[:8]
    src_db, ledger_db = args.keep_source or f"bench_src_{tag}", f"bench_ledger_{tag}"
    reuse = args.keep_source and _holds(src_db, args.rows)
    if not reuse:
        mysql(
            f"DROP DATABASE IF EXISTS {src_db}", f"CREATE DATABASE {src_db} CHARACTER SET utf8mb4"
        )
    mysql(f"CREATE DATABASE {ledger_db} CHARACTER SET utf8mb4")
    try:
        if not reuse:
            subprocess.run(
                [sys.executable, __file__, "--rows", str(args.rows), "--seed", src_db], check=True
            )
        with (
            server_setting("innodb_buffer_pool_size", args.buffer_pool, "InnoDB buffer pool"),
            server_setting("innodb_log_file_size", args.redo_log, "InnoDB redo log"),
        ):
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--rows",
                    str(args.rows),
                    "--measure",
                    src_db,
                    ledger_db,
                    *(["--no-naive"] if args.no_naive else []),
                ],
                check=True,
            )
    finally:
        mysql(
            *([] if args.keep_source else [f"DROP DATABASE IF EXISTS {src_db}"]),
            f"DROP DATABASE IF EXISTS {ledger_db}",
        )
    return 0


def _holds(db: str, rows: int) -> bool:
    """Whether ``db`` holds a benchmark source of ``rows`` rows (one seeded by an earlier run)."""
    out = subprocess.run(
        [
            "mariadb",
            "-h127.0.0.1",
            "-uroot",
            "--batch",
            "--skip-column-names",
            "-e",
            f"SELECT COUNT(*) FROM {db}.scjg_xkz",
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    return out.returncode == 0 and out.stdout.strip() == str(rows)


if __name__ == "__main__":
    raise SystemExit(main())
