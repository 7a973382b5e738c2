"""docs/connectors.md, followed to the letter: each worked example registers, checks and syncs.

The example's DDL runs on the real server of its dialect, its YAML files become a registry, the
`connector check` prints what the page says it prints, the sync loads the valid rows into a
ledger, `quarantine` shows the rejected one masked, and the DAG folder grows a `sync_<code>` DAG.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import ROOT, airflow_conn_json, load_dags

DOC = (ROOT / "docs" / "connectors.md").read_text(encoding="utf-8")
TODAY = dt.date(2026, 11, 25)
EXAMPLES = {"mysql": "sxhjj", "postgres": "ydwjw", "sqlite": "wglj"}
#: what each example's renewal-application query gives: licence -> its date (None: a flag, the run's day)
APPLIED = {
    "sxhjj": {"91410500MA44B7XX10001P": TODAY},
    "ydwjw": {"PDY4105050001": dt.date(2026, 11, 23)},
    "wglj": {},
}


def check_counts(printed: str) -> tuple[int, int, int, int]:
    """(rows read, would load, of which with warnings, would not load) of a check's output."""
    m = re.search(
        r"(\d+) rows read \(limit \d+\), (\d+) would load \((\d+) with warnings.*?\), (\d+) would not load",
        printed,
    )
    assert m, printed
    return tuple(int(g) for g in m.groups())  # type: ignore[return-value]


def blocks(tag: str) -> dict[str, str]:
    """Fenced blocks whose info string carries ``tag=<name>``: {name: body}."""
    pattern = re.compile(r"^```\w+ " + tag + r"=(\S+)\n(.*?)^```", re.DOTALL | re.MULTILINE)
    return {m.group(1): m.group(2) for m in pattern.finditer(DOC)}


def _run_ddl(url: str, ddl: str) -> None:
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(url)
    with engine.begin() as conn:
        for statement in (s.strip() for s in ddl.split(";\n")):
            if statement:
                conn.exec_driver_sql(statement.rstrip(";"))
    engine.dispose()


@pytest.fixture
def source_url(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    dialect = request.param
    if dialect == "mysql":
        return dialect, request.getfixturevalue("mariadb_database")
    if dialect == "postgres":
        return dialect, request.getfixturevalue("postgres_database")
    return dialect, f"sqlite:///{tmp_path / 'source.db'}"


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    files = blocks("file")
    assert {f"departments/{c}.yaml" for c in EXAMPLES.values()} <= set(files)
    for rel, body in files.items():
        (tmp_path / "reg" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "reg" / rel).write_text(body, encoding="utf-8")
    monkeypatch.setenv("LR_REGISTRY_DIR", str(tmp_path / "reg" / "departments"))
    monkeypatch.setenv("LR_CATALOGUE_DIR", str(tmp_path / "reg" / "catalogues"))
    monkeypatch.setenv("LR_REPORT_DIR", str(tmp_path / "reports"))
    return tmp_path / "reg"


@pytest.mark.mariadb
@pytest.mark.postgres
@pytest.mark.parametrize("source_url", list(EXAMPLES), indirect=True)
def test_worked_example_registers_checks_and_syncs(
    source_url: tuple[str, str], registry: Path, ledger_sqlite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licence_reminder import cli, tasks
    from licence_reminder.connector_check import check

    dialect, url = source_url
    code = EXAMPLES[dialect]
    _run_ddl(url, blocks("example")[f"{dialect}:ddl"])
    monkeypatch.setenv(f"AIRFLOW_CONN_SRC_{code.upper()}", airflow_conn_json(url))
    monkeypatch.setenv("AIRFLOW_CONN_LICENCE_LEDGER", airflow_conn_json(str(ledger_sqlite.url)))

    out = io.StringIO()
    status = check(registry / "departments" / f"{code}.yaml", today=TODAY, out=out)
    printed = out.getvalue()
    assert status == 1, printed
    expected = blocks("example")[f"{dialect}:check"]
    for line in expected.splitlines():
        assert line.strip() in printed, (line, printed)
    rows, load, warned, not_load = check_counts(expected)

    plan = tasks.sync_start(
        code, run_id="manual__1", logical_date=TODAY.isoformat(), force_full=True
    )
    stats = tasks.sync_department(code, plan, today=TODAY.isoformat())
    published = stats["published"]
    assert (
        stats["rows_read"],
        stats["rows_valid"],
        stats["rows_warned"],
        stats["rows_rejected"],
    ) == (rows, load, warned, not_load)
    assert published["inserted"] == load and published["quarantined"] == not_load
    with ledger_sqlite.connect() as conn:
        ledger = conn.execute(
            sa.text(
                "SELECT licence_no, expiry_date, contact_mobile, status, renewal_applied_on "
                "FROM ledger WHERE dept_code = :d ORDER BY licence_no"
            ),
            {"d": code},
        ).all()
        warnings = conn.execute(
            sa.text("SELECT rule FROM licence_warning WHERE dept_code = :d"), {"d": code}
        ).scalars()
        assert len(list(warnings)) == warned
    assert len(ledger) == load
    short = expected.count("mobile_format")
    assert sum(not re.fullmatch(r"1[3-9]\d{9}", r.contact_mobile) for r in ledger) == short
    assert all(
        dt.date.fromisoformat(str(r.expiry_date)[:10]) > TODAY or r.status != "valid"
        for r in ledger
    )
    assert {
        r.licence_no: dt.date.fromisoformat(str(r.renewal_applied_on)[:10])
        for r in ledger
        if r.renewal_applied_on
    } == APPLIED[code]

    shown = io.StringIO()
    monkeypatch.setattr("sys.stdout", shown)
    assert cli.main(["quarantine", "--dept", code, "--url", str(ledger_sqlite.url)]) == 0
    text = shown.getvalue()
    rule = expected.split("would NOT load")[1].splitlines()[1].split()[-1]
    assert f"{code}: 1 row(s) in quarantine" in text and rule in text
    quarantined = json.loads(
        ledger_sqlite.connect().execute(sa.text("SELECT raw_values FROM quarantine")).scalar_one()
    )
    for personal in ("contact_mobile", "contact_name"):
        if quarantined.get(personal):
            assert quarantined[personal] not in text
    if quarantined.get("contact_id_no"):  # kept masked at rest already (protect.py)
        assert re.fullmatch(r"[0-9]{3}\*+[0-9X]{2}", quarantined["contact_id_no"])


def test_every_example_file_is_a_dag(registry: Path) -> None:
    dags = load_dags(registry / "departments")
    for code in EXAMPLES.values():
        dag = dags[f"sync_{code}"]
        assert "config-error" not in dag.tags
        assert {"sync", "licence-reminder"} <= set(dag.tags)
