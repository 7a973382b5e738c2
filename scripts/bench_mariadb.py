"""The benchmarks' MariaDB helpers: the command-line client as root on 127.0.0.1, and the InnoDB
buffer pool set for a run and put back (bench_ui.py, bench_scale.py)."""

from __future__ import annotations

import contextlib
import subprocess


def mysql(sql: str, db: str = "") -> str:
    out = subprocess.run(
        [
            "mariadb",
            "-h127.0.0.1",
            "-uroot",
            "--default-character-set=utf8mb4",
            "--batch",
            "--skip-column-names",
            *([db] if db else []),
            "-e",
            sql,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"mariadb: {out.stderr.strip()}\n  in: {sql[:300]}")
    return out.stdout.strip()


@contextlib.contextmanager
def buffer_pool(size_mib: int):  # type: ignore[no-untyped-def]
    before = int(mysql("SELECT @@GLOBAL.innodb_buffer_pool_size"))
    if size_mib:
        mysql(f"SET GLOBAL innodb_buffer_pool_size = {size_mib * 2**20}")
    try:
        yield
    finally:
        if size_mib:
            mysql(f"SET GLOBAL innodb_buffer_pool_size = {before}")
