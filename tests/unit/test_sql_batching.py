"""Every INSERT … VALUES the product runs with many rows reaches MariaDB as multi-row INSERTs.

PyMySQL batches ``executemany()`` only when the statement's VALUES holds nothing but
placeholders; one literal (``'planned'``) and it sends one statement per row, silently: writing
a province's 17,491 reminders of a day took 5.4 s one by one. Statements run once per call are
listed with the reason."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from licence_reminder.db import SQL_DIR, sql_source
from pymysql.cursors import RE_INSERT_VALUES
from sqlalchemy import text
from sqlalchemy.dialects import mysql

#: INSERT … VALUES statements executed for one row at a time
SINGLE_ROW = {
    "consent_insert": "one consent per API call",
    "provider_health_init": "one row per gateway connection, once",
    "pushed_report_insert": "one pushed report per HTTP request",
    "send_lease_init": "one row per shard, once",
    "sync_run_start": "one row per sync run",
}


def mysql_statements() -> list[tuple[str, str]]:
    """(name, text) of every INSERT … VALUES as the product runs it on MariaDB."""
    engine = sa.create_engine("mysql+pymysql://nobody@127.0.0.1/none")  # never connects
    names = {p.stem for p in (*SQL_DIR.glob("*.sql"), *(SQL_DIR / "mysql").glob("*.sql"))}
    statements = [(n, sql_source(n, engine)) for n in sorted(names)]
    insert_values = re.compile(
        r"(INSERT|REPLACE)\b(?:(?!SELECT).)*\bVALUES\b", re.IGNORECASE | re.DOTALL
    )
    return [(n, s) for n, s in statements if insert_values.match(s)]


@pytest.mark.parametrize(
    ("name", "statement"),
    mysql_statements(),
    ids=lambda v: v if isinstance(v, str) and "\n" not in v and " " not in v else "",
)
def test_an_insert_of_many_rows_is_batched(name: str, statement: str) -> None:
    compiled = str(text(statement).compile(dialect=mysql.dialect(paramstyle="pyformat")))
    batched = RE_INSERT_VALUES.match(compiled) is not None
    assert batched or name in SINGLE_ROW, f"{name}.sql: PyMySQL would send one INSERT per row"


def test_the_list_of_single_row_statements_is_current() -> None:
    names = {n for n, _ in mysql_statements()}
    assert set(SINGLE_ROW) <= names
