"""`connector check`: a DBA's dry run of a department file. Writes nothing; exit status tells."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from conftest import ROOT
from licence_reminder.connector_check import check
from licence_reminder.demo.sources import seed_source

DEPTS = ROOT / "include" / "registry" / "departments"


@pytest.fixture
def source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list:
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(f"sqlite:///{tmp_path / 'src.db'}")
    rows = seed_source(engine, "scjgj", today=dt.date(2026, 11, 24), n=120)
    engine.dispose()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SRC_SCJGJ",
        json.dumps({"conn_type": "sqlite", "host": str(tmp_path / "src.db")}),
    )
    return rows


def test_reports_rejections_masked_and_exits_1(source: list) -> None:
    out = io.StringIO()
    assert check(DEPTS / "scjgj.yaml", limit=1000, today=dt.date(2026, 11, 24), out=out) == 1
    text = out.getvalue()
    assert "120 rows read" in text and "mobile_format" in text and "uscc_check" in text
    assert re.search(r"ok    catalogue \S*catalogues/scjgj\.yaml: \d+ licence kinds", text), text
    # each example shows the value its rule refused, masked
    assert re.search(r"e\.g\. .*\(contact_mobile ('\d*\*+\d*'|empty|missing)\): ", text), text
    for r in source:
        assert r.native["lxdh"] not in text and r.native["fzrsfzh"] not in text


def test_bad_file_exits_2_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "scjgj.yaml"
    bad.write_text(
        (DEPTS / "scjgj.yaml").read_text(encoding="utf-8").replace('"410500"', '"41"'),
        encoding="utf-8",
    )
    out = io.StringIO()
    assert check(bad, out=out) == 2
    assert "region_code" in out.getvalue()


def test_missing_connection_exits_2_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_SRC_SCJGJ", raising=False)
    out = io.StringIO()
    assert check(DEPTS / "scjgj.yaml", out=out) == 2
    assert "AIRFLOW_CONN_SRC_SCJGJ" in out.getvalue()


def test_a_split_column_the_extract_does_not_return_is_named(source: list, tmp_path: Path) -> None:
    """The row-limited extract carries each row's key: a split column the SQL does not return
    shows here, not at the first night's run."""
    out = io.StringIO()
    check(DEPTS / "scjgj.yaml", limit=10, today=dt.date(2026, 11, 24), out=out)
    assert "split_column 'source_id': each row's key rides along" in out.getvalue()
    sql = (ROOT / "include" / "sql" / "sources" / "scjgj_extract.sql").read_text(encoding="utf-8")
    (tmp_path / "no_key.sql").write_text(
        sql.replace("x.id AS source_id", "x.id AS pk"), encoding="utf-8"
    )
    bad = tmp_path / "scjgj.yaml"
    bad.write_text(
        (DEPTS / "scjgj.yaml")
        .read_text(encoding="utf-8")
        .replace("sql/sources/scjgj_extract.sql", str(tmp_path / "no_key.sql")),
        encoding="utf-8",
    )
    out = io.StringIO()
    assert check(bad, limit=1000, today=dt.date(2026, 11, 24), out=out) == 2
    text = out.getvalue()
    assert (
        "FAIL  extract" in text
        and "field 'source.sync.split_column': the extract returns no column" in text
    )
    for r in source:
        assert r.native["fzrsfzh"] not in text


@pytest.mark.mariadb
def test_unreachable_server_fails_at_the_connection_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_SRC_SCJGJ", "mysql://reader:s3cret-pw@127.0.0.1:3399/xk")
    out = io.StringIO()
    assert check(DEPTS / "scjgj.yaml", out=out) == 2
    text = out.getvalue()
    assert "FAIL  connection 'src_scjgj' (mysql): (2003" in text and "ok    connection" not in text
    assert "FAIL  extract" not in text and "s3cret-pw" not in text
    assert "check the connection's host, port, login, password and schema" in text


def test_every_row_rejected_points_at_the_configuration(source: list, tmp_path: Path) -> None:
    catalogues = tmp_path / "catalogues"
    catalogues.mkdir()
    text = (ROOT / "include" / "registry" / "catalogues" / "scjgj.yaml").read_text(encoding="utf-8")
    (catalogues / "scjgj.yaml").write_text(
        text.replace("食品经营许可证", "食品经营许可证（新版）"), encoding="utf-8"
    )
    out = io.StringIO()
    assert (
        check(DEPTS / "scjgj.yaml", today=dt.date(2026, 11, 24), catalogue_dir=catalogues, out=out)
        == 1
    )
    printed = out.getvalue()
    assert "licence_not_in_catalogue" in printed
    assert "the catalogue's licence names (licence_name must equal one): " in printed
    assert "食品经营许可证（新版）" in printed
    (catalogues / "scjgj.yaml").write_text(
        text.replace("licence_name: ", "licence_name: 旧"), encoding="utf-8"
    )
    out = io.StringIO()
    check(DEPTS / "scjgj.yaml", today=dt.date(2026, 11, 24), catalogue_dir=catalogues, out=out)
    assert "every row read would be rejected: more likely the SQL's aliases" in out.getvalue()


def test_an_empty_extract_and_an_unusable_gateway_are_failures(
    source: list, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sqlalchemy as sa
    from licence_reminder.db import engine_from_url

    with_gateway = tmp_path / "scjgj.yaml"
    with_gateway.write_text(
        (DEPTS / "scjgj.yaml").read_text(encoding="utf-8") + "gateway_conn_id: sms_scjgj\n",
        encoding="utf-8",
    )
    monkeypatch.delenv("AIRFLOW_CONN_SMS_SCJGJ", raising=False)
    out = io.StringIO()
    assert check(with_gateway, today=dt.date(2026, 11, 24), out=out) == 2
    assert "FAIL  gateway connection 'sms_scjgj' (gateway_conn_id) cannot be used" in out.getvalue()

    engine = engine_from_url(f"sqlite:///{tmp_path / 'src.db'}")  # the source fixture's register
    with engine.begin() as conn:
        for table in sa.inspect(conn).get_table_names():
            conn.execute(sa.text(f'DELETE FROM "{table}"'))
    engine.dispose()
    out = io.StringIO()
    assert check(DEPTS / "scjgj.yaml", today=dt.date(2026, 11, 24), out=out) == 1
    assert "FAIL  extract ran but returned no rows" in out.getvalue()


def test_a_yml_file_is_refused_as_the_dags_would(tmp_path: Path) -> None:
    yml = tmp_path / "scjgj.yml"
    yml.write_text((DEPTS / "scjgj.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out = io.StringIO()
    assert check(yml, out=out) == 2
    assert "rename it scjgj.yaml" in out.getvalue()
