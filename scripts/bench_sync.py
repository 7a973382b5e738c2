"""Benchmark: a department's sync into the MariaDB ledger against the engine's own limit.

    python scripts/bench_sync.py [--rows 1000000]

In one run, on the same machine: (1) the `mariadb` client dumping the source table plus LOAD DATA
of that dump into a copy — the engine's limit; (2) a full sync (extract → validate → stage →
publish) into an empty MariaDB ledger; (3) an incremental sync with 1% of rows changed. Prints
rows/s, ratios and peak RSS. Needs MariaDB on 127.0.0.1 (root, no password). Not a test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from licence_reminder import schema, sync  # noqa: E402
from licence_reminder.db import engine_from_url  # noqa: E402
from licence_reminder.demo.sources import build_rows, create_source_schema  # noqa: E402
from licence_reminder.registry import catalogue_for, load_department  # noqa: E402

TODAY = dt.date(2026, 11, 24)


def mysql(*sql: str, db: str = "") -> None:
    for s in sql:
        subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", *([db] if db else []), "-e", s], check=True)


def timed(label: str, fn):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn()
    secs = time.perf_counter() - t
    print(f"{label:<48} {secs:8.2f} s", flush=True)
    return secs, out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args = ap.parse_args()
    tag = uuid.uuid4().hex[:8]
    src_db, ledger_db = f"bench_src_{tag}", f"bench_ledger_{tag}"
    mysql(f"CREATE DATABASE {src_db} CHARACTER SET utf8mb4", f"CREATE DATABASE {ledger_db} CHARACTER SET utf8mb4")
    try:
        src = engine_from_url(f"mysql+pymysql://root@127.0.0.1/{src_db}?charset=utf8mb4")
        ledger = engine_from_url(f"mysql+pymysql://root@127.0.0.1/{ledger_db}?charset=utf8mb4")
        schema.upgrade(ledger)
        table = create_source_schema(src, "scjgj")
        rows = build_rows("scjgj", today=TODAY, n=args.rows, seed=1, invalid_ratio=0.01)
        with src.begin() as conn:
            for i in range(0, len(rows), 20_000):
                conn.execute(table.insert(), [r.native for r in rows[i:i + 20_000]])
        del rows
        print(f"source: {args.rows:,} rows (scjgj schema) in MariaDB")

        with tempfile.TemporaryDirectory() as tmp:
            dump = Path(tmp) / "dump.tsv"

            def engine_limit() -> None:
                with dump.open("wb") as f:
                    subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", "--batch", "--skip-column-names",
                                    "--quick", src_db, "-e", "SELECT * FROM scjg_xkz"], stdout=f, check=True)
                mysql("CREATE TABLE copy_xkz LIKE scjg_xkz",
                      f"LOAD DATA LOCAL INFILE '{dump}' INTO TABLE copy_xkz", db=src_db)
            base, _ = timed("engine limit: mariadb dump + LOAD DATA", engine_limit)

        dept = load_department(ROOT / "include/registry/departments/scjgj.yaml")
        cat = catalogue_for("scjgj", ROOT / "include/registry/catalogues")
        sync.register_department(ledger, dept, cat)

        def run(run_id: str, full: bool):  # type: ignore[no-untyped-def]
            plan = sync.start_run(ledger, dept, run_id=run_id, logical_date=TODAY, force_full=full)
            t = time.perf_counter()
            stats, _ = sync.extract_and_stage(ledger, src, dept, cat, plan, today=TODAY)
            t2 = time.perf_counter()
            out = sync.publish(ledger, plan, stats)
            print(f"   extract+validate+stage {t2 - t:.2f} s, publish {time.perf_counter() - t2:.2f} s")
            return out, stats

        full, (pub, stats) = timed("full sync into an empty ledger", lambda: run("b:full", True))
        print(f"   read {stats.rows_read:,}, valid {stats.rows_valid:,}, inserted {pub.inserted:,}")
        changed = max(1, args.rows // 100)
        with src.begin() as conn:
            conn.exec_driver_sql(f"UPDATE scjg_xkz SET lxdh = CONCAT('139', SUBSTRING(lxdh, 4)), "
                                 f"gxsj = '2026-11-24 10:00:00' WHERE id <= {changed}")
        incr, (pub, stats) = timed(f"incremental sync, {changed:,} rows changed", lambda: run("b:incr", False))
        print(f"   read {stats.rows_read:,}, updated {pub.updated:,}")
        full2, (pub, stats) = timed("full reconciliation, nothing changed", lambda: run("b:full2", True))
        print(f"   read {stats.rows_read:,}, staged {stats.staged:,}")
        print(f"\nrows/s: engine limit {args.rows / base:,.0f}; full sync {args.rows / full:,.0f}; "
              f"full reconciliation {args.rows / full2:,.0f}")
        print(f"ratio full sync / engine limit: {full / base:.2f}x (target 2x); "
              f"reconciliation / engine limit: {full2 / base:.2f}x; incremental day: {incr:.2f} s (target < 5 s)")
        print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")
    finally:
        mysql(f"DROP DATABASE IF EXISTS {src_db}", f"DROP DATABASE IF EXISTS {ledger_db}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
