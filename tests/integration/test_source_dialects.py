"""The generic extractor on each source dialect: MariaDB, PostgreSQL (real servers) and SQLite."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import ROOT
from licence_reminder.demo.sources import seed_source
from licence_reminder.records import CANONICAL_COLUMNS
from licence_reminder.registry import load_department
from licence_reminder.sync.extract import stream_chunks

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
    department = department.model_copy(
        update={
            "source": department.source.model_copy(
                update={"sync": department.source.sync.model_copy(update={"chunk_size": 100})}
            )
        }
    )
    chunks = list(stream_chunks(engine, department, watermark=None))
    assert [len(c) for c in chunks] == [100, 100, 60]
    for c in chunks:  # the register's key (its split column) rides along, to find rejected rows by
        assert list(c.columns) == [
            *CANONICAL_COLUMNS,
            *(["source_key"] if department.source.sync.split_column else []),
        ]
    if department.source.sync.split_column:
        keys = [int(k) for c in chunks for k in c["source_key"]]
        assert len(set(keys)) == len(seeded)
    names = {n for c in chunks for n in c["holder_name"] if n}
    assert any("有限公司" in n for n in names)  # Chinese text round-trips (utf8mb4)
    assert {r.licence_no for r in seeded} == {n for c in chunks for n in c["licence_no"]}
    # the latest stamp: a duplicate entered an hour after the rest (demo.sources)
    later = list(stream_chunks(engine, department, watermark=dt.datetime(2026, 11, 23, 19, 0)))
    assert sum(len(c) for c in later) == 0  # nothing past the watermark
    engine.dispose()


def test_bad_sql_is_permanent_and_names_the_department(tmp_path: Path) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import PermanentError

    engine = engine_from_url(f"sqlite:///{tmp_path / 'x.db'}")
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    with pytest.raises(PermanentError, match="department scjgj.*no such table"):
        list(stream_chunks(engine, dept, watermark=None))


@pytest.mark.parametrize("url_fixture", ["mariadb_database", "postgres_database"])
def test_an_unfinished_statement_is_explained_not_blamed_on_our_parenthesis(
    url_fixture: str, request: pytest.FixtureRequest
) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import PermanentError

    engine = engine_from_url(request.getfixturevalue(url_fixture))
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    dept = dept.model_copy(
        update={
            "source": dept.source.model_copy(
                update={"extract_sql": "SELECT 1 AS licence_no WHERE", "extract_sql_file": None}
            )
        }
    )
    try:
        with pytest.raises(PermanentError, match=r"the '\)' is the product's: .*a trailing WHERE"):
            list(stream_chunks(engine, dept, watermark=None))
    finally:
        engine.dispose()


def test_unreachable_database_is_transient() -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import TransientError

    engine = engine_from_url("mysql+pymysql://root@127.0.0.1:1/nowhere")
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    with pytest.raises(TransientError, match="department scjgj"):
        list(stream_chunks(engine, dept, watermark=None))


def _keyed_department(sql: str, workers: int):  # type: ignore[no-untyped-def]
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    sync = dept.source.sync.model_copy(update={"workers": workers, "chunk_size": 100})
    source = dept.source.model_copy(
        update={"extract_sql": sql, "extract_sql_file": None, "sync": sync}
    )
    return dept.model_copy(update={"source": source})


def test_a_text_split_column_is_a_key_like_any_other(source_url: str) -> None:
    """The split column is the key a rejected row is found by, and what breaks ties between rows
    of one licence number: text keys (an ID number) serve, unmasked in the run, masked when shown."""
    import sqlalchemy as sa
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(source_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE keyed (id_no VARCHAR(18) NOT NULL)"))
        conn.execute(
            sa.text("INSERT INTO keyed VALUES ('410505199001011234'), ('410505199001015678')")
        )
    dept = _keyed_department(
        "SELECT id_no AS source_id, id_no AS licence_no, '食品经营许可证' AS licence_name, "
        "'某公司' AS holder_name, '13800000000' AS contact_mobile, "
        "'2027-01-01' AS expiry_date FROM keyed",
        workers=1,
    )
    (chunk,) = list(stream_chunks(engine, dept, watermark=None))
    assert list(chunk["source_key"]) == ["410505199001011234", "410505199001015678"]
    engine.dispose()


@pytest.mark.postgres
def test_postgres_connection_extra_search_path_finds_unqualified_tables(
    postgres_database: str,
) -> None:
    """A department's tables in their own schema: ``search_path`` in the connection's extra, not
    a schema name in every line of the SQL."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from licence_reminder.db import connection_url, engine_from_url

    with engine_from_url(postgres_database).begin() as conn:
        conn.execute(sa.text("CREATE SCHEMA yljg"))
        conn.execute(sa.text("CREATE TABLE yljg.xkz (xkzh varchar(40))"))
        conn.execute(sa.text("INSERT INTO yljg.xkz VALUES ('YL001')"))
    url = sa.engine.make_url(postgres_database)
    conn = SimpleNamespace(
        conn_id="src_yljg",
        conn_type="postgres",
        host=url.host,
        port=url.port,
        login=url.username,
        password=None,
        schema=url.database,
        extra_dejson={"search_path": "yljg,public", "sslmode": "disable"},
    )
    engine = engine_from_url(connection_url(conn))
    with engine.connect() as c:
        assert c.execute(sa.text("SELECT xkzh FROM xkz")).scalar_one() == "YL001"
    engine.dispose()


def test_split_column_the_extract_does_not_return_names_the_field(tmp_path: Path) -> None:
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import PermanentError

    engine = engine_from_url(f"sqlite:///{tmp_path / 'k.db'}")
    seed_source(engine, "scjgj", today=TODAY, n=10, seed=3)
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    sync = dept.source.sync.model_copy(update={"split_column": "pk_id"})
    dept = dept.model_copy(update={"source": dept.source.model_copy(update={"sync": sync})})
    with pytest.raises(
        PermanentError,
        match="field 'source.sync.split_column': the extract returns no column 'pk_id'",
    ):
        list(stream_chunks(engine, dept, watermark=None))
    engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("value", "cast", "wording"),
    [
        ("+86 13903720005", "bigint", "invalid input syntax for type bigint: '…'"),
        ("13903720005", "int", "value '…' is out of range for type integer"),
    ],
)
def test_a_value_the_server_refuses_is_not_in_the_error(
    postgres_database: str, value: str, cast: str, wording: str
) -> None:
    """PostgreSQL quotes the value a cast refuses ('invalid input syntax for type bigint:
    "+86 13903720005"'); the department's error keeps the rest of the message."""
    import sqlalchemy as sa
    from licence_reminder.db import engine_from_url
    from licence_reminder.errors import PermanentError

    engine = engine_from_url(postgres_database)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE lic (xkzh text, lxdh text)"))
        conn.execute(sa.text("INSERT INTO lic VALUES ('A1', :v)"), {"v": value})
    dept = _keyed_department(
        f"SELECT xkzh AS licence_no, lxdh::{cast} AS contact_mobile FROM lic", workers=1
    )
    with pytest.raises(PermanentError, match=wording) as err:
        list(stream_chunks(engine, dept, watermark=None))
    assert "13903720005" not in str(err.value)
    engine.dispose()


def test_a_rejected_row_carries_its_source_key_masked_when_id_shaped(tmp_path: Path) -> None:
    """The split column's value rides along with each row, so a rejected row can be found by its
    key (not by its position in one run's extract), exactly; a key shaped like an ID number is
    masked."""
    import sqlalchemy as sa
    from licence_reminder.db import engine_from_url
    from licence_reminder.masking import mask_record
    from licence_reminder.validation.suite import Validator

    engine = engine_from_url(f"sqlite:///{tmp_path / 'src.db'}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE lic (id INTEGER, xkzh TEXT)"))
        conn.execute(
            sa.text("INSERT INTO lic VALUES (320, 'A1'), (410505199202281565, 'A2'), (NULL, 'A3')")
        )
    dept = _keyed_department(
        "SELECT id AS source_id, xkzh AS licence_no, '食品经营许可证' AS licence_name, "
        "'某公司' AS holder_name, '13800000000' AS contact_mobile, '2027-13-01' AS expiry_date "
        "FROM lic",
        workers=1,
    )
    validator = Validator(catalogue_names={"食品经营许可证"}, today=TODAY)
    rejected = [
        r
        for chunk in stream_chunks(engine, dept, watermark=None)
        for r in validator.validate(chunk).rejected
    ]
    # exactly: a NULL key in the chunk had made pandas read the column as float64 (…281536)
    assert [r.raw.get("source_key") for r in rejected] == ["320", "410505199202281565", None]
    assert [mask_record(r.raw).get("source_key") for r in rejected] == [
        "320",
        "410*************65",
        None,
    ]
    engine.dispose()


@pytest.mark.mariadb
def test_mysql_connection_extra_time_zone_sets_the_session_zone(mariadb_database: str) -> None:
    """A server running in UTC with TIMESTAMP stamps: ``time_zone`` in the connection's extra
    makes both the stamps and NOW() (the lookback's clock) Beijing time; a bad value is named."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from licence_reminder.db import ConnectionConfigError, connection_url, engine_from_url
    from licence_reminder.sync.extract import source_clock

    url = sa.engine.make_url(mariadb_database)

    def connection(zone: str) -> SimpleNamespace:
        return SimpleNamespace(
            conn_id="src_tz",
            conn_type="mysql",
            host=url.host,
            port=url.port,
            login=url.username,
            password=None,
            schema=url.database,
            extra_dejson={"time_zone": zone},
        )

    with engine_from_url(mariadb_database).begin() as conn:
        conn.execute(sa.text("SET time_zone = '+00:00'"))
        conn.execute(sa.text("CREATE TABLE stamped (gxsj TIMESTAMP NULL)"))
        conn.execute(
            sa.text("INSERT INTO stamped VALUES ('2026-11-25 01:00:00')")
        )  # 09:00 in Beijing
    engine = engine_from_url(connection_url(connection("+08:00")))
    with engine.connect() as c:
        assert (
            str(c.execute(sa.text("SELECT gxsj FROM stamped")).scalar_one())
            == "2026-11-25 09:00:00"
        )
        utc_now = c.execute(sa.text("SELECT UTC_TIMESTAMP()")).scalar_one()
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    drift = source_clock(engine, dept).replace(tzinfo=None) - utc_now
    assert dt.timedelta(hours=7, minutes=59) < drift < dt.timedelta(hours=8, minutes=1)
    engine.dispose()
    with pytest.raises(ConnectionConfigError, match='extra time_zone "\'; DROP" is neither'):
        connection_url(connection("'; DROP"))


@pytest.mark.postgres
def test_postgres_timestamptz_stamps_compare_with_the_watermark_in_the_city_zone(
    postgres_database: str,
) -> None:
    """The server runs in UTC; the watermark is a naive Beijing time. A row stamped a minute after
    it must be read (compared in the server's zone, the bound lay 8 hours in the future)."""
    from types import SimpleNamespace

    import sqlalchemy as sa
    from licence_reminder.config import local_now
    from licence_reminder.db import connection_url, engine_from_url

    with engine_from_url(postgres_database).begin() as conn:
        assert conn.execute(sa.text("SHOW timezone")).scalar_one() in (
            "Etc/UTC",
            "UTC",
        )  # the case at issue
        conn.execute(sa.text("CREATE TABLE lic (xkzh text, gxsj timestamptz)"))
        conn.execute(sa.text("INSERT INTO lic VALUES ('A1', now())"))
    url = sa.engine.make_url(postgres_database)
    conn = SimpleNamespace(
        conn_id="src_pg",
        conn_type="postgres",
        host=url.host,
        port=url.port,
        login=url.username,
        password=None,
        schema=url.database,
        extra_dejson={},
    )
    engine = engine_from_url(connection_url(conn))
    dept = _keyed_department(
        "SELECT 1 AS source_id, xkzh AS licence_no, gxsj AS source_updated_at, '' AS licence_name, "
        "'' AS holder_name, '' AS contact_mobile, '' AS expiry_date FROM lic",
        workers=1,
    )
    read = [
        n
        for c in stream_chunks(engine, dept, watermark=local_now() - dt.timedelta(minutes=1))
        for n in c["licence_no"]
    ]
    assert read == ["A1"]
    engine.dispose()


def test_mysql_connections_take_pymysql_tls_keys_and_name_the_libpq_ones_as_an_error() -> None:
    from types import SimpleNamespace

    import sqlalchemy as sa
    from licence_reminder.db import ConnectionConfigError, connection_url

    def conn(**extra: str) -> SimpleNamespace:
        return SimpleNamespace(
            conn_id="src_xk",
            conn_type="mysql",
            host="10.1.2.3",
            port=3306,
            login="reader",
            password="pw",
            schema="xk",
            extra_dejson=extra,
        )

    url = sa.engine.make_url(connection_url(conn(ssl_ca="/etc/ca.pem", ssl_check_hostname="false")))
    assert url.query["ssl_ca"] == "/etc/ca.pem" and url.query["ssl_check_hostname"] == "false"
    with pytest.raises(
        ConnectionConfigError,
        match=r"\['sslmode', 'sslrootcert'\] are PostgreSQL's TLS "
        r"keys.*\(sslrootcert → ssl_ca\)",
    ):
        connection_url(conn(sslmode="require", sslrootcert="/etc/ca.pem"))
