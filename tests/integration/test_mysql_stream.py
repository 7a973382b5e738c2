"""The column-wise reader of MySQL/MariaDB results (mysql_stream) against PyMySQL's own rows, on
the real MariaDB: the same values for every column type, across chunk and socket-read
boundaries; the server's error in the middle of a result; a reader stopped early."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from licence_reminder import mysql_stream
from licence_reminder.db import Dialect

COLUMNS = """
    id INT PRIMARY KEY, tiny TINYINT, small SMALLINT UNSIGNED, big BIGINT, ubig BIGINT UNSIGNED,
    yr YEAR, dec_ DECIMAL(12, 2), fl FLOAT, db DOUBLE, d DATE, dtm DATETIME, dt6 DATETIME(6),
    ts TIMESTAMP NULL, tm TIME, ch CHAR(4), vc VARCHAR(300), tx TEXT, mtx MEDIUMTEXT,
    vb VARBINARY(40), bl BLOB, js JSON, en ENUM('甲', 'b'), st SET('x', 'y'), bt BIT(5)
"""


def _row(i: int) -> dict[str, Any]:
    none = i % 7 == 3  # every column NULL in some rows
    return {
        "id": i, "tiny": None if none else -(i % 128), "small": None if none else 65535 - i,
        "big": None if none else -(2**62) + i, "ubig": None if none else 2**64 - 1 - i,
        "yr": None if none else 1999 + i % 50, "dec_": None if none else Decimal(f"{i}.25"),
        "fl": None if none else 1.5 * i, "db": None if none else i / 3,
        "d": None if none else dt.date(2026, 1, 1) + dt.timedelta(days=i),
        "dtm": None if none else dt.datetime(2026, 11, 24, 9, 30, i % 60),
        "dt6": None if none else dt.datetime(2026, 11, 24, 9, 30, 1, i % 1_000_000),
        "ts": None if none else dt.datetime(2026, 11, 24, 10, 0, i % 60),
        "tm": None if none else dt.timedelta(hours=i % 24, seconds=i % 60),
        "ch": None if none else "ab"[: i % 3],
        "vc": None if none else ("安阳𠀀\t\n\\" * (i % 60))[:300],  # 252-prefixed beyond 250 bytes
        "tx": None if none else "x" * (i * 37 % 70_000),  # 253-prefixed beyond 65,535 bytes
        "mtx": None if none else "" if i % 5 else "长" * 30_000,
        "vb": None if none else bytes(range(i % 40)), "bl": None if none else b"\xff\x00" * (i % 9),
        "js": None if none else f'{{"n": {i}, "s": "街道"}}', "en": None if none else "甲",
        "st": None if none else "x,y", "bt": None if none else i % 32,
    }


@pytest.fixture
def conn(mariadb_database: str):  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(mariadb_database)
    with engine.begin() as c:
        c.execute(sa.text(f"CREATE TABLE t ({COLUMNS}) CHARACTER SET utf8mb4"))
        rows = [_row(i) for i in range(1, 301)]
        names = list(rows[0])
        bits = {"bt"}
        c.execute(sa.text(f"INSERT INTO t ({', '.join(names)}) VALUES "
                          f"({', '.join(f'CAST(:{n} AS UNSIGNED)' if n in bits else ':' + n for n in names)})"),
                  rows)
    with engine.connect() as c:
        yield c
    engine.dispose()


def _pymysql_rows(dbapi: Any, query: str, args: Any = None) -> list[tuple[Any, ...]]:
    import pymysql.cursors

    with Dialect("mysql").times_as_text(dbapi):
        cur = dbapi.cursor(pymysql.cursors.SSCursor)
        cur.execute(query, args)
        rows = list(cur.fetchall())
        cur.close()
    return rows


def _stream_rows(dbapi: Any, query: str, args: Any = None, chunk: int = 7) -> tuple[list[tuple[Any, ...]], int]:
    out: list[tuple[Any, ...]] = []
    chunks = 0
    with Dialect("mysql").times_as_text(dbapi):
        for c in mysql_stream.execute(dbapi, query, args, chunk):
            chunks += 1
            assert len(c) <= chunk
            columns = [col.to_pylist() if hasattr(col, "to_pylist") else col.tolist() for col in c.columns]
            out.extend(zip(*columns, strict=True))
    return out, chunks


@pytest.mark.mariadb
def test_every_column_type_reads_as_pymysql_reads_it(conn) -> None:  # type: ignore[no-untyped-def]
    dbapi = conn.connection.dbapi_connection
    query = "SELECT * FROM t WHERE id > %s ORDER BY id"
    expected = _pymysql_rows(dbapi, query, (0,))
    got, chunks = _stream_rows(dbapi, query, (0,))
    assert chunks == 43 and len(got) == 300
    for want_row, got_row in zip(expected, got, strict=True):
        for k, (want, value) in enumerate(zip(want_row, got_row, strict=True)):
            assert value == want and type(value) is type(want), (want_row[0], k, want, value)
    # the connection is left as PyMySQL expects it: the next statement runs
    assert _pymysql_rows(dbapi, "SELECT COUNT(*) FROM t") == [(300,)]


@pytest.mark.mariadb
def test_large_results_cross_reads_and_blocks(conn) -> None:  # type: ignore[no-untyped-def]
    """Beyond one socket read and one 50,000-row block: every row, in order, chunked as asked."""
    dbapi = conn.connection.dbapi_connection
    query = ("SELECT a.id * 1000 + b.id, CONCAT('编号', a.id, '-', b.id), b.vc FROM t a "
             "JOIN t b ON b.id <= 200 WHERE a.id <= 300 ORDER BY 1")
    expected = _pymysql_rows(dbapi, query)
    got, chunks = _stream_rows(dbapi, query, chunk=25_000)
    assert len(got) == 60_000 and chunks == 3
    assert got == expected


@pytest.mark.mariadb
def test_no_rows_and_a_statement_without_a_result(conn) -> None:  # type: ignore[no-untyped-def]
    dbapi = conn.connection.dbapi_connection
    assert _stream_rows(dbapi, "SELECT * FROM t WHERE id < 0") == ([], 0)
    assert _stream_rows(dbapi, "DO 1") == ([], 0)


@pytest.mark.mariadb
def test_an_error_in_the_middle_of_a_result_is_the_server_s_and_leaves_the_connection_usable(conn) -> None:  # type: ignore[no-untyped-def]
    import pymysql

    dbapi = conn.connection.dbapi_connection
    with dbapi.cursor() as cur:
        cur.execute("SET SESSION max_statement_time = 0.3")
    with pytest.raises(pymysql.err.OperationalError) as err:  # rows come, then the timeout's error
        _stream_rows(dbapi, "SELECT id, SLEEP(0.002) FROM t a JOIN (SELECT 1 UNION ALL SELECT 2) b", chunk=5)
    assert err.value.args[0] == 1969  # ER_STATEMENT_TIMEOUT
    with dbapi.cursor() as cur:
        cur.execute("SET SESSION max_statement_time = 0")
    assert mysql_stream.is_open(dbapi)
    assert _pymysql_rows(dbapi, "SELECT 1") == [(1,)]


@pytest.mark.mariadb
def test_a_reader_stopped_early_closes_its_connection(mariadb_database: str) -> None:
    """Draining a big result only to discard it would take as long as reading it."""
    from licence_reminder.db import engine_from_url
    from licence_reminder.extract import blocks

    engine = engine_from_url(mariadb_database)
    with engine.connect() as c:
        c.execute(sa.text("CREATE TABLE n (i INT)"))
        c.execute(sa.text("INSERT INTO n VALUES (1), (2), (3), (4), (5)"))
        c.commit()
        # 15,625 rows of a kilobyte: the server is still sending when the reader stops
        reading = blocks(c, "SELECT a.i, REPEAT('x', 1000) FROM n a, n b, n c, n d, n e, n f", {}, 10)
        first = next(reading)
        assert len(first) == 10
        reading.close()
        assert c.invalidated
    with engine.connect() as c:  # the pool hands out a working connection again
        assert c.execute(sa.text("SELECT COUNT(*) FROM n")).scalar() == 5
    engine.dispose()


@pytest.mark.mariadb
def test_a_connection_in_another_character_set_is_left_to_pymysql(mariadb_database: str) -> None:
    import pymysql

    from licence_reminder.extract import blocks
    from licence_reminder.db import engine_from_url

    url = sa.engine.make_url(mariadb_database)
    latin = pymysql.connect(host=url.host, port=url.port or 3306, user=url.username, database=url.database,
                            charset="latin1")
    assert not mysql_stream.supported(latin)
    latin.close()
    engine = engine_from_url(url.update_query_dict({"charset": "gbk"}).render_as_string(hide_password=False))
    with engine.connect() as c:
        c.execute(sa.text("CREATE TABLE g (s VARCHAR(10)) CHARACTER SET gbk"))
        c.execute(sa.text("INSERT INTO g VALUES ('安阳')"))
        (block,) = list(blocks(c, "SELECT s FROM g", {}, 10))
    assert block.rows == [("安阳",)]  # PyMySQL's rows, decoded by PyMySQL
    engine.dispose()
