"""What an assessor relies on: an append-only audit trail and a read-only auditor role."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
import sqlalchemy as sa
from licence_reminder.db import sql

ATTEMPT = {
    "message_id": "m" * 32,
    "attempt_no": 1,
    "kind": "send",
    "dept_code": "scjgj",
    "channel": "sms",
    "gateway": "aliyun",
    "started_at": dt.datetime(2026, 11, 24, 9),
    "finished_at": dt.datetime(2026, 11, 24, 9),
    "outcome": "accepted",
    "response_code": "OK",
    "http_status": 200,
    "provider_message_id": "1^2",
    "request_id": "r",
    "recipient_masked": "138****5678",
    "body_sha256": "0" * 64,
    "run_id": "d1",
    "gateway_conn_id": "sms_gateway",
    "detail": None,
}


@pytest.fixture(params=["mariadb", "sqlite"])
def ledger(request):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(f"ledger_{request.param}")


@pytest.mark.mariadb
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE delivery_attempt SET outcome = 'rewritten'",
        "DELETE FROM delivery_attempt",
        "UPDATE ledger_history SET new_values = '{}'",
        "DELETE FROM ledger_history",
    ],
)
def test_audit_tables_refuse_rewrites(ledger: sa.Engine, statement: str) -> None:
    with ledger.begin() as conn:
        conn.execute(sql("attempt_insert", conn), ATTEMPT)
        conn.execute(
            sa.text(
                "INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, "
                "old_values, new_values, changed_at) VALUES (1, 'scjgj', 'L1', 'r1', 'insert', NULL, '{}', "
                ":now)"
            ),
            {"now": dt.datetime(2026, 11, 24, 2)},
        )
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), ledger.begin() as conn:
        conn.execute(sa.text(statement))
    with ledger.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT outcome FROM delivery_attempt")).scalar_one() == "accepted"
        )
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ledger_history")).scalar_one() == 1


LEDGER_ROW = {
    "dept_code": "scjgj",
    "licence_no": "L1",
    "licence_name": "食品经营许可证",
    "holder_name": "某公司",
    "holder_type": "org",
    "contact_mobile": "13800000000",
    "expiry_date": dt.date(2027, 1, 1),
    "status": "valid",
    "row_hash": "0" * 32,
    "created_run": "scjgj:r1",
    "updated_run": "scjgj:r1",
    "created_at": dt.datetime(2026, 11, 24, 2),
    "updated_at": dt.datetime(2026, 11, 24, 2),
}


@pytest.mark.mariadb
@pytest.mark.parametrize(
    "change",
    [
        "created_run = 'scjgj:other'",
        "created_at = '2020-01-01 00:00:00'",
        "licence_no = 'L2'",
        "dept_code = 'jtysj'",
        "id = id + 100",
    ],
)
def test_a_licence_s_insertion_cannot_be_rewritten(ledger: sa.Engine, change: str) -> None:
    """The ledger row is the record of when and by which run a licence came in (there is no
    history row for an insert): the database refuses to change it, and nothing else."""
    with ledger.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO ledger ({', '.join(LEDGER_ROW)}) "
                f"VALUES ({', '.join(':' + k for k in LEDGER_ROW)})"
            ),
            LEDGER_ROW,
        )
    with pytest.raises(sa.exc.DBAPIError, match="insertion"), ledger.begin() as conn:
        conn.execute(sa.text(f"UPDATE ledger SET {change}"))
    with ledger.begin() as conn:  # what a sync changes, it still may
        conn.execute(
            sa.text(
                "UPDATE ledger SET contact_mobile = '13900000000', updated_run = 'scjgj:r2', "
                "vanished_at = :t, updated_at = :t"
            ),
            {"t": dt.datetime(2026, 11, 25)},
        )
    with ledger.connect() as conn:
        row = conn.execute(
            sa.text("SELECT licence_no, created_run, contact_mobile FROM ledger")
        ).one()
    assert tuple(row) == ("L1", "scjgj:r1", "13900000000")


@pytest.mark.mariadb
def test_auditor_reads_the_views_and_nothing_else(ledger_mariadb: sa.Engine) -> None:
    from conftest import MYSQL_HOST, MYSQL_PORT
    from licence_reminder.db import engine_from_url

    with ledger_mariadb.begin() as conn:
        conn.execute(sql("attempt_insert", conn), ATTEMPT)
    database = ledger_mariadb.url.database
    user, password = f"aud_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    with ledger_mariadb.begin() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'"))
        conn.execute(sa.text(f"GRANT licence_auditor TO '{user}'@'%'"))
        conn.execute(sa.text(f"SET DEFAULT ROLE licence_auditor FOR '{user}'@'%'"))
    auditor = engine_from_url(
        f"mysql+pymysql://{user}:{password}@{MYSQL_HOST}:{MYSQL_PORT}/{database}?charset=utf8mb4"
    )
    try:
        with auditor.connect() as conn:
            log = conn.execute(
                sa.text("SELECT recipient_masked, outcome FROM v_delivery_log")
            ).one()
            assert tuple(log) == ("138****5678", "accepted")
            for view in (
                "v_delivery_daily",
                "v_delivery_monthly",
                "v_expired_without_delivery",
                "v_assessment_yearly",
            ):
                conn.execute(sa.text(f"SELECT * FROM {view}")).all()
            for denied in (
                "SELECT recipient FROM outbox_message",
                "SELECT * FROM ledger",
                "DELETE FROM delivery_attempt",
            ):
                with pytest.raises(sa.exc.DBAPIError, match="denied"):
                    conn.execute(sa.text(denied))
    finally:
        auditor.dispose()
        with ledger_mariadb.begin() as conn:
            conn.execute(sa.text(f"DROP USER '{user}'@'%'"))
