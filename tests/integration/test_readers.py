"""The sync's reader (sync.readers) against the real MariaDB: connectorx gives every column type
as the driver's own cursor gives it (dates and times as text), across batches; what connectorx
cannot read goes through the driver; errors are the server's, said for the run."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder.errors import PermanentError, TransientError
from licence_reminder.sync import readers

COLUMNS = """
    id INT PRIMARY KEY, tiny TINYINT, small SMALLINT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED,
    yr YEAR, dec_ DECIMAL(12, 2), fl FLOAT, db DOUBLE, d DATE, dtm DATETIME, dt6 DATETIME(6),
    ts TIMESTAMP NULL, tm TIME, ch CHAR(4), vc VARCHAR(300), tx TEXT, mtx MEDIUMTEXT,
    vb VARBINARY(40), bl BLOB, js JSON, en ENUM('甲', 'b'), st SET('x', 'y'), bt BIT(5)
"""


def _row(i: int) -> dict[str, Any]:
    none = i % 7 == 3  # every column NULL in some rows
    return {
        "id": i,
        "tiny": None if none else -(i % 128),
        "small": None if none else 65535 - i,
        "big": None if none else -(2**62) + i,
        "ubig": None if none else 2**64 - 1 - i,
        "yr": None if none else 1999 + i % 50,
        "dec_": None if none else Decimal(f"{i}.25"),
        "fl": None if none else 1.5 * i,
        "db": None if none else i / 3,
        "d": None if none else dt.date(2026, 1, 1) + dt.timedelta(days=i),
        "dtm": None if none else dt.datetime(2026, 11, 24, 9, 30, i % 60),
        "dt6": None if none else dt.datetime(2026, 11, 24, 9, 30, 1, i % 1_000_000),
        "ts": None if none else dt.datetime(2026, 11, 24, 10, 0, i % 60),
        "tm": None if none else dt.timedelta(hours=i % 24, seconds=i % 60),
        "ch": None if none else "ab"[: i % 3],
        "vc": None if none else ("安阳𠀀\t\n\\" * (i % 60))[:300],
        "tx": None if none else "x" * (i * 37 % 70_000),
        "mtx": None if none else "" if i % 5 else "长" * 30_000,
        "vb": None if none else bytes(range(i % 40)),
        "bl": None if none else b"\xff\x00" * (i % 9),
        "js": None if none else f'{{"n": {i}, "s": "街道"}}',
        "en": None if none else "甲",
        "st": None if none else "x,y",
        "bt": None if none else i % 32,
    }


@pytest.fixture
def engine(mariadb_database: str):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(mariadb_database)
    with engine.begin() as c:
        c.exec_driver_sql(
            "SET SESSION sql_mode = ''"
        )  # a register's zero dates, as old servers kept them
        c.execute(sa.text(f"CREATE TABLE t ({COLUMNS}) CHARACTER SET utf8mb4"))
        rows = [_row(i) for i in range(1, 301)]
        names = list(rows[0])
        c.execute(
            sa.text(
                f"INSERT INTO t ({', '.join(names)}) VALUES "
                f"({', '.join(f'CAST(:{n} AS UNSIGNED)' if n == 'bt' else ':' + n for n in names)})"
            ),
            rows,
        )
        c.exec_driver_sql(
            "INSERT INTO t (id, d, dtm) VALUES (301, '0000-00-00', '0000-00-00 00:00:00')"
        )
    yield engine
    engine.dispose()


def _read(
    engine: sa.Engine,
    query: str,
    params: dict[str, Any] | None = None,
    *,
    batch: int = 7,
    driver: bool = False,
    monkeypatch: pytest.MonkeyPatch | None = None,
) -> tuple[list[tuple], int]:
    rows: list[tuple] = []
    blocks = 0
    with pytest.MonkeyPatch.context() as m:
        if driver:
            m.setattr(readers, "connectorx_url", lambda _engine: None)
        for block in readers.read(engine, query, params or {}, batch, what="test"):
            blocks += 1
            assert len(block) <= batch
            rows.extend(zip(*(block.objects(k) for k in range(len(block.names))), strict=True))
    return rows, blocks


@pytest.mark.mariadb
def test_connectorx_reads_every_column_type_as_the_driver_does(engine: sa.Engine) -> None:
    query = "SELECT * FROM t WHERE id > :lowest ORDER BY id"
    assert readers.connectorx_url(engine) is not None
    fast, blocks = _read(engine, query, {"lowest": 0})
    plain, _ = _read(engine, query, {"lowest": 0}, driver=True)
    assert blocks == 43 and len(fast) == len(plain) == 301
    for want_row, got_row in zip(plain, fast, strict=True):
        for k, (want, value) in enumerate(zip(want_row, got_row, strict=True)):
            assert value == want, (want_row[0], k, want, value)
            assert type(value) is type(want) or isinstance(value, float), (
                want_row[0],
                k,
                want,
                value,
            )
    # dates and times as text: a zero date is a value the validator refuses, not the reader's failure
    assert fast[-1][9:11] == ("0000-00-00", "0000-00-00 00:00:00")
    assert fast[0][9:13] == (
        "2026-01-02",
        "2026-11-24 09:30:01",
        "2026-11-24 09:30:01.000001",
        "2026-11-24 10:00:01",
    )


@pytest.mark.mariadb
def test_large_results_cross_batches(engine: sa.Engine) -> None:
    query = (
        "SELECT a.id * 1000 + b.id, CONCAT('编号', a.id, '-', b.id), b.vc FROM t a "
        "JOIN t b ON b.id <= 200 WHERE a.id <= 300 ORDER BY 1"
    )
    fast, blocks = _read(engine, query, batch=25_000)
    assert len(fast) == 60_000 and blocks == 3
    assert fast == _read(engine, query, batch=25_000, driver=True)[0]


@pytest.mark.mariadb
def test_no_rows(engine: sa.Engine) -> None:
    assert _read(engine, "SELECT * FROM t WHERE id < 0") == ([], 0)


@pytest.mark.mariadb
def test_text_is_bound_never_written_into_sql(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """connectorx binds nothing: a query with a text value goes through the driver, bound."""
    used: list[str] = []
    real = readers._dbapi

    def dbapi(*args: Any, **kw: Any) -> Any:
        used.append("driver")
        return real(*args, **kw)

    monkeypatch.setattr(readers, "_dbapi", dbapi)
    rows, _ = _read(
        engine, "SELECT id FROM t WHERE ch = :c ORDER BY id LIMIT 2", {"c": "a' OR '1'='1"}
    )
    assert rows == [] and used == ["driver"]
    with pytest.raises(TypeError):
        readers.literal("a' OR '1'='1")
    assert readers.literal(readers.Code("scjgj")) == "'scjgj'"
    with pytest.raises(ValueError):
        readers.Code("x' OR 1=1 --")


@pytest.mark.mariadb
def test_a_statement_timeout_is_the_server_s_error_said_for_the_run(engine: sa.Engine) -> None:
    query = "SELECT id, SLEEP(0.01) FROM t a JOIN (SELECT 1 UNION ALL SELECT 2) b"
    for driver in (False, True):
        with pytest.MonkeyPatch.context() as m:
            if driver:
                m.setattr(readers, "connectorx_url", lambda _engine: None)
            with pytest.raises((TransientError, PermanentError)) as err:
                list(
                    readers.read(
                        engine, query, {}, 5, what="department x: extract", timeout_seconds=1
                    )
                )
        assert "department x: extract" in str(err.value)
        assert "max_statement_time" in str(err.value) or "1969" in str(err.value), str(err.value)
    assert _read(engine, "SELECT COUNT(*) FROM t")[0] == [(301,)]  # the engine's pool still serves


@pytest.mark.mariadb
def test_a_reader_stopped_early_leaves_the_engine_usable(engine: sa.Engine) -> None:
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE n (i INT)"))
        c.execute(sa.text("INSERT INTO n VALUES (1), (2), (3), (4), (5)"))
    query = "SELECT a.i, REPEAT('x', 1000) FROM n a, n b, n c, n d, n e, n f"
    for driver in (False, True):
        with pytest.MonkeyPatch.context() as m:
            if driver:
                m.setattr(readers, "connectorx_url", lambda _engine: None)
            reading = readers.read(engine, query, {}, 10, what="test")
            assert len(next(reading)) == 10
            reading.close()
    assert _read(engine, "SELECT COUNT(*) FROM n")[0] == [(5,)]


@pytest.mark.mariadb
def test_a_connection_in_another_character_set_is_read_by_its_driver(mariadb_database: str) -> None:
    from licence_reminder.db import engine_from_url

    url = sa.engine.make_url(mariadb_database)
    engine = engine_from_url(
        url.update_query_dict({"charset": "gbk"}).render_as_string(hide_password=False)
    )
    assert readers.connectorx_url(engine) is None
    with engine.begin() as c:
        c.execute(sa.text("CREATE TABLE g (s VARCHAR(10)) CHARACTER SET gbk"))
        c.execute(sa.text("INSERT INTO g VALUES ('安阳')"))
    assert _read(engine, "SELECT s FROM g")[0] == [("安阳",)]
    engine.dispose()
    latin = engine_from_url(
        mariadb_database
    )  # a latin1 column read through utf8mb4: the server converts
    with latin.begin() as c:
        c.execute(sa.text("CREATE TABLE l (s VARCHAR(10)) CHARACTER SET latin1"))
        c.execute(sa.text("INSERT INTO l VALUES ('café')"))
    assert _read(latin, "SELECT s FROM l")[0] == [("café",)]
    latin.dispose()


@pytest.mark.mariadb
def test_tls_keys_send_a_connection_to_its_driver(mariadb_database: str) -> None:
    from licence_reminder.db import engine_from_url

    url = sa.engine.make_url(mariadb_database).update_query_dict(
        {"ssl_ca": "/etc/ssl/certs/ca-certificates.crt"}
    )
    engine = engine_from_url(url.render_as_string(hide_password=False))
    assert readers.connectorx_url(engine) is None
    engine.dispose()


@pytest.mark.mariadb
def test_connectorx_reads_timestamps_in_the_connection_s_time_zone(mariadb_database: str) -> None:
    """A server in UTC, TIMESTAMP stamps, ``time_zone`` in the connection's extra: connectorx runs
    the session's SET first, as the driver does, so both read Beijing time."""
    from types import SimpleNamespace

    from licence_reminder.db import connection_url, engine_from_url

    url = sa.engine.make_url(mariadb_database)
    with engine_from_url(mariadb_database).begin() as c:
        c.execute(sa.text("SET time_zone = '+00:00'"))
        c.execute(sa.text("CREATE TABLE z (gxsj TIMESTAMP NULL)"))
        c.execute(sa.text("INSERT INTO z VALUES ('2026-11-25 01:00:00')"))
    engine = engine_from_url(
        connection_url(
            SimpleNamespace(
                conn_id="src_tz",
                conn_type="mysql",
                host=url.host,
                port=url.port,
                login=url.username,
                password=None,
                schema=url.database,
                extra_dejson={"time_zone": "+08:00"},
            )
        )
    )
    assert readers.connectorx_url(engine) is not None
    assert _read(engine, "SELECT gxsj FROM z")[0] == [("2026-11-25 09:00:00",)]
    assert _read(engine, "SELECT gxsj FROM z", driver=True)[0] == [("2026-11-25 09:00:00",)]
    engine.dispose()
