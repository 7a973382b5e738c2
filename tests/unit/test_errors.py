"""Database errors reach the task log without the values they quote or were bound with."""

from __future__ import annotations

import traceback

import pymysql
import pytest
import sqlalchemy as sa
from licence_reminder.errors import PermanentError, TransientError, classify_db_error, redact_values

ID_NO = "410505199001011233"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (
            f"(1062, \"Duplicate entry 'scjgj-{ID_NO}' for key 'uq_ledger_licence'\")",
            "(1062, \"Duplicate entry '…' for key 'uq_ledger_licence'\")",
        ),
        (
            "(1292, \"Incorrect date value: '2026年12月' for column `s`.`lic`.`expiry` at row 3\")",
            "(1292, \"Incorrect date value: '…' for column `s`.`lic`.`expiry` at row 3\")",
        ),
        (
            "(1292, \"Truncated incorrect DOUBLE value: '13912345678'\")",
            "(1292, \"Truncated incorrect DOUBLE value: '…'\")",
        ),
        (
            'invalid input syntax for type date: "13912345678"',
            "invalid input syntax for type date: '…'",
        ),
        ("(1146, \"Table 'src.lic' doesn't exist\")", "(1146, \"Table 'src.lic' doesn't exist\")"),
        (
            'value "13903720011" is out of range for type integer',
            "value '…' is out of range for type integer",
        ),
        ('invalid value "张三" for "MM"', "invalid value '…' for \"MM\""),
        (
            'numeric field overflow: "41050319871030018X" and more',
            "numeric field overflow: '…' and more",
        ),
        (
            "(1054, \"Unknown column 'value' in 'field list'\")",
            "(1054, \"Unknown column 'value' in 'field list'\")",
        ),
        ('column "xkzh" does not exist', 'column "xkzh" does not exist'),
        (
            'date/time field value out of range: "139-0372-0011"',
            "date/time field value out of range: '…'",
        ),
        (
            'time zone displacement out of range: "+86 139 0372 0012"',
            "time zone displacement out of range: '…'",
        ),
        (
            'null value in column "lxdh" of relation "lic" violates not-null constraint',
            'null value in column "lxdh" of relation "lic" violates not-null constraint',
        ),
        ('syntax error at or near "FORM"', 'syntax error at or near "FORM"'),
        (
            'connection to server at "127.0.0.1", port 5499 failed: Connection refused',
            'connection to server at "127.0.0.1", port 5499 failed: Connection refused',
        ),
        (
            "(2003, \"Can't connect to MySQL server on '10.1.2.3' ([Errno 111] Connection refused)\")",
            "(2003, \"Can't connect to MySQL server on '10.1.2.3' ([Errno 111] Connection refused)\")",
        ),
        (
            "(1045, \"Access denied for user 'reader'@'10.0.0.5' (using password: YES)\")",
            "(1045, \"Access denied for user 'reader'@'10.0.0.5' (using password: YES)\")",
        ),
        (
            "(1366, \"Incorrect string value: '\\xF0\\x9F\\x98\\x80' for column `x`.`lic`.`qymc` at row 1\")",
            "(1366, \"Incorrect string value: '…' for column `x`.`lic`.`qymc` at row 1\")",
        ),
        (
            "department scjgj: field 'source.sync.split_column': column 'source_id' must hold integers",
            "department scjgj: field 'source.sync.split_column': column 'source_id' must hold integers",
        ),
        (
            "department d: extract from connection 'src_d': (1292, \"Incorrect date value: '2026年' for column `c`\")",
            "department d: extract from connection 'src_d': (1292, \"Incorrect date value: '…' for column `c`\")",
        ),
    ],
)
def test_redact_values_removes_quoted_row_values_only(message: str, expected: str) -> None:
    assert redact_values(message) == expected


def _duplicate() -> sa.exc.IntegrityError:
    driver = pymysql.err.IntegrityError(
        1062, f"Duplicate entry 'scjgj-{ID_NO}' for key 'uq_ledger_licence'"
    )
    return sa.exc.IntegrityError("INSERT INTO ledger …", {"licence_no": ID_NO}, driver)


def test_classified_error_names_the_key_not_the_value() -> None:
    err = classify_db_error(_duplicate(), what="department scjgj: merge into the ledger")
    assert isinstance(err, PermanentError)
    assert str(err) == (
        "department scjgj: merge into the ledger: "
        "(1062, \"Duplicate entry '…' for key 'uq_ledger_licence'\")"
    )


@pytest.mark.parametrize("kind", [PermanentError, TransientError])
def test_task_errors_drop_the_driver_error_from_the_log(kind: type[Exception]) -> None:
    from licence_reminder.tasks import airflow_errors

    @airflow_errors
    def task() -> None:
        try:
            raise _duplicate()
        except sa.exc.IntegrityError as exc:
            raise kind(f"department scjgj: {redact_values(str(exc.orig))}") from exc

    with pytest.raises(Exception) as caught:
        task()
    logged = "".join(traceback.format_exception(caught.value))
    assert "Duplicate entry '…'" in logged
    assert ID_NO not in logged
    assert (type(caught.value).__name__ == "AirflowFailException") == (kind is PermanentError)


def test_statement_errors_hide_bound_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder.db import engine_from_url

    engine = engine_from_url(f"sqlite:///{tmp_path}/x.db")
    with pytest.raises(sa.exc.OperationalError) as caught, engine.connect() as conn:
        conn.execute(sa.text("INSERT INTO no_such_table VALUES (:v)"), {"v": ID_NO})
    assert "no_such_table" in str(caught.value)
    assert ID_NO not in "".join(traceback.format_exception(caught.value))


@pytest.mark.parametrize(
    ("code", "message", "kind"),
    [
        pytest.param(1242, "Subquery returns more than 1 row", PermanentError, id="subquery-rows"),
        pytest.param(
            1644, "Unhandled user-defined exception condition", PermanentError, id="signal"
        ),
        pytest.param(
            1292, "Incorrect datetime value: 'x' for column `t`.`d`", PermanentError, id="bad-value"
        ),
        pytest.param(1064, "You have an error in your SQL syntax", PermanentError, id="syntax"),
        pytest.param(1205, "Lock wait timeout exceeded", TransientError, id="lock-wait"),
        pytest.param(1213, "Deadlock found", TransientError, id="deadlock"),
        pytest.param(
            1969,
            "Query execution was interrupted (max_statement_time exceeded)",
            TransientError,
            id="statement-timeout",
        ),
        pytest.param(
            1290,
            "The MariaDB server is running with the --read-only option",
            TransientError,
            id="read-only-fail-over",
        ),
        pytest.param(
            2013, "Lost connection to server during query", TransientError, id="lost-connection"
        ),
    ],
)
def test_mysql_server_errors_are_permanent_unless_known_to_pass(
    code: int, message: str, kind: type[Exception]
) -> None:
    import pymysql

    err = sa.exc.OperationalError("SELECT 1", {}, pymysql.err.OperationalError(code, message))
    assert isinstance(classify_db_error(err, what="extract"), kind)


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [
        ("21000", PermanentError),
        ("P0001", PermanentError),
        ("42P01", PermanentError),
        ("57014", TransientError),
        ("40P01", TransientError),
        ("08006", TransientError),
    ],
)
def test_postgresql_errors_are_classified_by_sqlstate(sqlstate: str, kind: type[Exception]) -> None:
    class PgError(Exception):
        pgcode = sqlstate

    err = sa.exc.InternalError("SELECT 1", {}, PgError("more than one row returned by a subquery"))
    assert isinstance(classify_db_error(err, what="extract"), kind)


@pytest.mark.parametrize(
    "message",
    [
        'connection to server at "127.0.0.1", port 5432 failed: FATAL:  database "x" does not exist',
        'FATAL:  role "reader" does not exist',
        'FATAL:  no pg_hba.conf entry for host "10.0.0.5", user "r", database "x"',
    ],
)
def test_postgresql_connection_refusals_are_permanent(message: str) -> None:
    class PgConnectError(Exception):
        pgcode = None

    err = sa.exc.OperationalError("connect", {}, PgConnectError(message))
    assert isinstance(
        classify_db_error(err, what="connection 'src_x' (postgresql)"), PermanentError
    )


def test_a_connection_refused_is_still_transient() -> None:
    class PgConnectError(Exception):
        pgcode = None

    err = sa.exc.OperationalError(
        "connect",
        {},
        PgConnectError('connection to server at "127.0.0.1", port 5499 failed: Connection refused'),
    )
    assert isinstance(
        classify_db_error(err, what="connection 'src_x' (postgresql)"), TransientError
    )


def test_a_name_in_an_identifier_position_is_redacted_and_a_host_name_kept() -> None:
    assert redact_values('relation "郭丽娟" does not exist') == "relation '…' does not exist"
    assert redact_values('relation "许可证" does not exist') == 'relation "许可证" does not exist'
    assert (
        redact_values('could not translate host name "db.xk.local" to address')
        == 'could not translate host name "db.xk.local" to address'
    )


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (2013, "Lost connection to server during query"),
        (2006, "MySQL server has gone away"),
        (1927, "Connection was killed"),
    ],
)
def test_a_lost_connection_says_so_after_what_was_being_done(code: int, message: str) -> None:
    err = sa.exc.OperationalError("LOAD DATA …", {}, pymysql.err.OperationalError(code, message))
    classified = classify_db_error(err, what="department scjgj: merge into the ledger")
    assert isinstance(classified, TransientError)
    assert (
        str(classified)
        == f"department scjgj: merge into the ledger: connection lost: ({code}, '{message}')"
    )


def test_a_connection_refused_is_not_called_lost() -> None:
    err = sa.exc.OperationalError(
        "SELECT 1",
        {},
        pymysql.err.OperationalError(
            2003, "Can't connect to MySQL server on '10.1.2.3' ([Errno 111] Connection refused)"
        ),
    )
    assert "connection lost" not in str(
        classify_db_error(err, what="department d: reading the ledger")
    )
