"""The generic extractor on each source dialect: MariaDB, PostgreSQL (real servers) and SQLite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from conftest import ROOT
from licence_reminder.demo.sources import seed_source
from licence_reminder.extract import stream_chunks
from licence_reminder.records import CANONICAL_COLUMNS
from licence_reminder.registry import load_department

TODAY = dt.date(2026, 11, 24)


@pytest.fixture(params=["mariadb", "postgres", "sqlite"])
def source_url(request, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    if request.param == "mariadb":
        return request.getfixturevalue("mariadb_database")
    if request.param == "postgres":
        return request.getfixturevalue("postgres_database")
    return f"sqlite:///{tmp_path / 'src.db'}"


@pytest.mark.parametrize("dept", ["scjgj", "jtysj"])
def test_extract_streams_canonical_rows(source_url: str, dept: str) -> None:
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(source_url)
    seeded = seed_source(engine, dept, today=TODAY, n=260, seed=3)
    department = load_department(ROOT / "include" / "registry" / "departments" / f"{dept}.yaml")
    department = department.model_copy(update={"source": department.source.model_copy(
        update={"sync": department.source.sync.model_copy(update={"chunk_size": 100})})})
    chunks = list(stream_chunks(engine, department, watermark=None))
    assert [len(c) for c in chunks] == [100, 100, 60]
    for c in chunks:
        assert list(c.columns) == list(CANONICAL_COLUMNS)
    names = {n for c in chunks for n in c["holder_name"] if n}
    assert any("有限公司" in n for n in names)  # Chinese text round-trips (utf8mb4)
    assert {r.licence_no for r in seeded} == {n for c in chunks for n in c["licence_no"]}
    later = list(stream_chunks(engine, department, watermark=dt.datetime(2026, 11, 23, 18, 0)))
    assert sum(len(c) for c in later) == 0  # nothing past the watermark
    engine.dispose()


def test_bad_sql_is_permanent_and_names_the_department(tmp_path: Path) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import PermanentError

    engine = engine_from_url(f"sqlite:///{tmp_path / 'x.db'}")
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    with pytest.raises(PermanentError, match="department scjgj.*no such table"):
        list(stream_chunks(engine, dept, watermark=None))


def test_unreachable_database_is_transient() -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import TransientError

    engine = engine_from_url("mysql+pymysql://root@127.0.0.1:1/nowhere")
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    with pytest.raises(TransientError, match="department scjgj"):
        list(stream_chunks(engine, dept, watermark=None))
