"""A department's register and a ledger on real MariaDB (and SQLite, the embedded default), for
the tests of ledger semantics and of what the dispatch does with the ledger.

The register is one table ``lic`` holding the canonical columns; :func:`licence` makes a valid
row of it, :func:`put` writes rows, :func:`run_sync` runs the department's sync. The fixture
``engines`` gives (ledger, source), migrated and registered.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import dispatch, sync
from licence_reminder.registry import Catalogue, Department
from licence_reminder.sync import plan as planning
from licence_reminder.sync.flow import PublishStats

TODAY = dt.date(2026, 11, 24)
run_numbers = itertools.count(1)

DEPT = Department.model_validate(
    {
        "code": "testdept",
        "name": "测试局",
        "region_code": "410505",
        "contact": {"name": "王工"},
        "source": {
            "conn_id": "src_test",
            "extract_sql": "SELECT * FROM lic",
            "sync": {"mode": "incremental", "full_reconcile_weekday": None},
        },
    }
)
CATALOGUE = Catalogue.model_validate(
    {
        "department": "testdept",
        "entries": [
            {
                "licence_name": "食品经营许可证",
                "approval_item": "食品经营许可",
                "office": "审批科",
                "statutory_validity": "5年",
                "renewal_window": "有效期届满30日前",
                "online_url": "https://zwfw.example.gov.cn",
                "service_phone": "0372-1234567",
                "materials": ["延续申请书"],
                "lapse_consequences": "无证经营将被依法查处。",
            }
        ],
    }
)

# A valid resident ID (Yindu district) and credit code for the holder of every row.
PERSON_ID = "410505199001011233"


def _valid_person_id() -> str:
    from stdnum.cn import ric

    body = PERSON_ID[:17]
    return body + ric.calc_check_digit(body + "0")


def _valid_uscc() -> str:
    from stdnum.cn import uscc

    body = "91410500MA44X1234"
    return body + uscc.calc_check_digit(body)


#: what keeps a row out of the ledger (a rule of severity REJECT): a licence not in the catalogue
NOT_IN_CATALOGUE = {"licence_name": "营业执照"}


def licence(no: str, expiry_in: int, **kw: Any) -> dict[str, Any]:
    row = {
        "licence_no": no,
        "licence_name": "食品经营许可证",
        "holder_name": "安阳市某某食品有限公司",
        "holder_type": "org",
        "holder_code": _valid_uscc(),
        "contact_name": "张三",
        "contact_id_no": _valid_person_id(),
        "contact_mobile": f"1380000{int(no[-4:]):04d}",
        "issue_date": TODAY - dt.timedelta(days=1000),
        "expiry_date": TODAY + dt.timedelta(days=expiry_in),
        "status": "valid",
        "renewal_applied_on": None,
        "source_updated_at": dt.datetime(2026, 11, 1, 8, 0),
    }
    row.update(kw)
    return row


@pytest.fixture(params=["mariadb", "sqlite"])
def engines(request, tmp_path):  # type: ignore[no-untyped-def]
    from licence_reminder import schema
    from licence_reminder.db import engine_from_url

    if request.param == "mariadb":
        factory = request.getfixturevalue("mariadb_factory")
        ledger_url, source_url = factory(), factory()
    else:
        ledger_url, source_url = f"sqlite:///{tmp_path}/ledger.db", f"sqlite:///{tmp_path}/src.db"
    ledger, source = engine_from_url(ledger_url), engine_from_url(source_url)
    schema.upgrade(ledger)
    create_source_table(source)
    planning.register_department(ledger, DEPT, CATALOGUE)
    yield ledger, source
    ledger.dispose()
    source.dispose()


def create_source_table(source: sa.Engine) -> None:
    """The department's own register ``lic``, with the canonical columns (dates typed)."""
    meta = sa.MetaData()
    sa.Table(
        "lic",
        meta,
        *(
            sa.Column(
                c,
                sa.Date()
                if c in {"issue_date", "expiry_date", "renewal_applied_on"}
                else sa.DateTime()
                if c == "source_updated_at"
                else sa.String(200),
            )
            for c in licence("x0000", 1)
        ),
    )
    meta.create_all(source)


def put(source: sa.Engine, *rows: dict[str, Any]) -> None:
    with source.begin() as conn:
        for r in rows:
            conn.execute(sa.text("DELETE FROM lic WHERE licence_no = :licence_no"), r)
            conn.execute(
                sa.text(
                    f"INSERT INTO lic ({', '.join(r)}) VALUES ({', '.join(':' + k for k in r)})"
                ),
                r,
            )


def run_sync(
    ledger: sa.Engine, source: sa.Engine, *, full: bool = False, today: dt.date = TODAY
) -> PublishStats:
    plan = planning.start_run(
        ledger, DEPT, run_id=f"testdept:run{next(run_numbers)}", logical_date=today, force_full=full
    )
    published = sync.run(ledger, source, DEPT, CATALOGUE, plan, today=today).published
    sync.take_figures(ledger, DEPT.code, published)  # as the sync task does next
    return published


def q(engine: sa.Engine, query: str, **params: Any) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(conn.execute(sa.text(query), params))


def reminders(ledger: sa.Engine) -> dict[tuple[str, int], str]:
    return {
        (r.licence_no, r.stage): r.status
        for r in q(ledger, "SELECT licence_no, stage, status FROM reminder")
    }


def plan_day(ledger: sa.Engine, day: dt.date) -> None:
    dispatch.plan(ledger, today=day, run_id=f"dispatch:{day}")


def add_row(source: sa.Engine, row: dict[str, Any]) -> None:
    """Another row in the source, whatever its number (put() replaces rows of the same number)."""
    with source.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO lic ({', '.join(row)}) VALUES ({', '.join(':' + k for k in row)})"
            ),
            row,
        )


class InjectedFailure(RuntimeError):
    pass


def fail_before(monkeypatch: pytest.MonkeyPatch, statement: str) -> None:
    """The run's merge fails where it would run the SQL file ``statement`` (the statements before
    it have run, inside the run's transaction)."""
    from licence_reminder.sync import load

    real = load.sql

    def sql(name: str, bind: Any) -> Any:
        if name == statement:
            raise InjectedFailure(f"injected failure before {statement}")
        return real(name, bind)

    monkeypatch.setattr(load, "sql", sql)
