"""The schema's migrations, applied by one command, go all the way down and up again."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from licence_reminder import schema


@pytest.fixture(params=["mariadb", "sqlite"])
def ledger(request):  # type: ignore[no-untyped-def]
    return request.getfixturevalue(f"ledger_{request.param}")


@pytest.mark.mariadb
def test_down_to_base_and_up_again(ledger: sa.Engine) -> None:
    head = schema.current(ledger)
    assert head == schema.head()
    assert "source_read_at" in {c["name"] for c in sa.inspect(ledger).get_columns("sync_watermark")}
    assert "heartbeat_at" in {c["name"] for c in sa.inspect(ledger).get_columns("sync_run")}
    assert "ix_ledger_first_reminder" not in {
        i["name"] for i in sa.inspect(ledger).get_indexes("ledger")
    }
    schema.downgrade(ledger, "base")
    assert set(sa.inspect(ledger).get_table_names()) <= {"alembic_version"}
    assert sa.inspect(ledger).get_view_names() == []
    assert schema.upgrade(ledger) == head
    assert {"v_delivery_log", "v_assessment_yearly"} <= set(sa.inspect(ledger).get_view_names())


@pytest.mark.mariadb
def test_an_account_owning_only_the_ledger_database_migrates_it(mariadb_factory) -> None:  # type: ignore[no-untyped-def]
    """As the compose file's `ledger` user: all privileges on its database, with GRANT OPTION, but
    not CREATE USER; the server-wide auditor role made once by root (as the compose init does)."""
    import uuid

    from licence_reminder.db import engine_from_url
    from sqlalchemy.engine import make_url

    url = make_url(mariadb_factory())
    user = f"lr_owner_{uuid.uuid4().hex[:8]}"
    admin = engine_from_url(url.render_as_string(hide_password=False))
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE ROLE IF NOT EXISTS licence_auditor")
        conn.exec_driver_sql(f"CREATE USER '{user}'@'127.0.0.1'")
        conn.exec_driver_sql(
            f"GRANT ALL ON `{url.database}`.* TO '{user}'@'127.0.0.1' WITH GRANT OPTION"
        )
    owner = engine_from_url(
        url.set(username=user, password="").render_as_string(hide_password=False)
    )
    try:
        assert schema.upgrade(owner) == schema.head()
        with admin.connect() as conn:
            granted = conn.exec_driver_sql(
                "SELECT COUNT(*) FROM information_schema.table_privileges "
                "WHERE table_schema = %s AND grantee LIKE %s",
                (url.database, "%licence_auditor%"),
            ).scalar()
        assert granted == 7  # the auditor views, v_reminder_channels (0017) among them
    finally:
        owner.dispose()
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP USER '{user}'@'127.0.0.1'")
        admin.dispose()


@pytest.mark.mariadb
def test_runs_started_before_0009_are_numbered_in_the_order_they_started(ledger: sa.Engine) -> None:
    """Their number orders a department's runs exactly, also two that started in the same second;
    new runs take the next numbers."""
    import datetime as dt

    from conftest import ROOT
    from licence_reminder.registry import load_department
    from licence_reminder.sync import plan as planning

    schema.downgrade(ledger, "0008")
    started = [
        ("scjgj:b", dt.datetime(2026, 11, 2)),
        ("scjgj:a", dt.datetime(2026, 11, 3)),
        ("jtysj:c", dt.datetime(2026, 11, 1)),
        ("scjgj:d", dt.datetime(2026, 11, 3)),
    ]
    with ledger.begin() as conn:
        for run_id, at in started:
            conn.execute(
                sa.text(
                    "INSERT INTO sync_run (run_id, dept_code, mode, status, started_at) "
                    "VALUES (:r, :d, 'full', 'success', :t)"
                ),
                {"r": run_id, "d": run_id.split(":")[0], "t": at},
            )
    assert schema.upgrade(ledger, "0009") == "0009"
    schema.upgrade(ledger)  # today's start_run needs today's schema; the numbers were given by 0009
    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    planning.start_run(ledger, dept, run_id="scjgj:e", logical_date=dt.date(2026, 11, 3))
    with ledger.connect() as conn:
        order = conn.execute(sa.text("SELECT run_id FROM sync_run ORDER BY run_no")).scalars().all()
    assert order == ["jtysj:c", "scjgj:b", "scjgj:a", "scjgj:d", "scjgj:e"]


@pytest.mark.mariadb
def test_0010_loads_what_was_quarantined_for_a_warning_at_the_next_full_run_and_goes_back(
    ledger: sa.Engine, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    """An existing ledger whose quarantine holds a row rejected before 0010 for its mobile: the
    next full run loads it with a warning and closes the entry as fixed. Down again, the licences
    loaded without a mobile or holder name keep their place (with empty values)."""
    import datetime as dt
    import json

    from conftest import ROOT
    from licence_reminder import sync
    from licence_reminder.db import engine_from_url
    from licence_reminder.demo.sources import seed_source
    from licence_reminder.registry import catalogue_for, load_department
    from licence_reminder.sync import plan as planning

    today = dt.date(2026, 11, 24)
    source = engine_from_url(f"sqlite:///{tmp_path / 'src.db'}")
    rows = seed_source(source, "scjgj", today=today, n=60)
    (short,) = [r for r in rows if r.defects == {"mobile_format"}]
    schema.downgrade(ledger, "0009")
    with ledger.begin() as conn:  # as a run before 0010 left it
        conn.execute(
            sa.text(
                "INSERT INTO quarantine (dept_code, record_key, licence_no, source_row, rules, reasons, raw_values, "
                "first_run_id, run_id, first_seen_at, last_seen_at, open_key) VALUES ('scjgj', :no, :no, 60, "
                "'mobile_format', '[]', :raw, 'old', 'old', :t, :t, :key)"
            ),
            {
                "no": short.licence_no,
                "raw": json.dumps({"licence_no": short.licence_no}),
                "t": dt.datetime(2026, 11, 1),
                "key": f"scjgj|{short.licence_no}",
            },
        )
    assert schema.upgrade(ledger) == schema.head()

    dept = load_department(ROOT / "include" / "registry" / "departments" / "scjgj.yaml")
    dept = dept.model_copy(
        update={
            "source": dept.source.model_copy(
                update={"sync": dept.source.sync.model_copy(update={"workers": 1})}
            )
        }
    )
    plan = planning.start_run(
        ledger, dept, run_id="scjgj:after-0010", logical_date=today, force_full=True
    )
    result = sync.run(
        ledger,
        source,
        dept,
        catalogue_for("scjgj", ROOT / "include" / "registry" / "catalogues"),
        plan,
        today=today,
    )
    assert result.published.quarantine_resolved >= 1
    with ledger.connect() as conn:
        assert (
            conn.execute(
                sa.text("SELECT resolution FROM quarantine WHERE record_key = :no"),
                {"no": short.licence_no},
            ).scalar()
            == "fixed"
        )
        assert (
            conn.execute(
                sa.text("SELECT rule FROM licence_warning WHERE licence_no = :no"),
                {"no": short.licence_no},
            ).scalar()
            == "mobile_format"
        )
        held = conn.execute(sa.text("SELECT COUNT(*) FROM ledger")).scalar()
        assert (
            conn.execute(sa.text("SELECT COUNT(*) FROM ledger WHERE holder_name IS NULL")).scalar()
            == 1
        )
    source.dispose()

    schema.downgrade(ledger, "0009")
    with ledger.connect() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM ledger")).scalar() == held
        assert (
            conn.execute(sa.text("SELECT COUNT(*) FROM ledger WHERE holder_name = ''")).scalar()
            == 1
        )
    assert "call_task" not in sa.inspect(ledger).get_table_names()
    with pytest.raises(sa.exc.DBAPIError), ledger.begin() as conn:  # the insertion is fixed again
        conn.execute(sa.text("UPDATE ledger SET created_run = 'x'"))
    assert schema.upgrade(ledger) == schema.head()


@pytest.mark.mariadb
def test_0013_the_catalogue_mirror_keeps_what_templates_are_built_from(ledger: sa.Engine) -> None:
    """Rows mirrored before 0013 read as before: no code, page, licence digits or rule (NULL)."""
    import json

    from licence_reminder.dispatch import entry_from_mirror

    new = {"code", "page_url", "licence_no_digits", "sms_consequences", "lead_rule"}
    schema.downgrade(ledger, "0012")
    assert not new & {c["name"] for c in sa.inspect(ledger).get_columns("catalogue_entry")}
    with ledger.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, "
                "first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, online_url, "
                "service_phone, materials, lapse_consequences, updated_at) VALUES ('scjgj', '食品经营许可证', "
                "'食品经营许可', '审批科', '5年', 30, 7, '届满30日前', 10, 'https://zwfw.example.gov.cn', "
                "'0372-1234567', :m, '无证经营将被查处。', '2026-11-01 00:00:00')"
            ),
            {"m": json.dumps(["申请书"])},
        )
    assert schema.upgrade(ledger) == schema.head()
    assert new <= {c["name"] for c in sa.inspect(ledger).get_columns("catalogue_entry")}
    with ledger.connect() as conn:
        row = conn.execute(sa.text("SELECT * FROM catalogue_entry")).one()
    entry = entry_from_mirror(row)
    assert (entry.first_lead_days, entry.renewal_deadline_days, entry.licence_no_digits) == (
        30,
        10,
        None,
    )
    assert entry.calendar_leads and entry.entry_code.startswith("e")


def test_0025_gives_each_cycle_its_next_check_and_goes_back(ledger: sa.Engine) -> None:
    """A cycle expired before the migration is parked; any other waits for its first reminder
    day (one without any is looked at by the next planning); the catalogue's policies count as
    applied."""
    import datetime as dt

    from licence_reminder.policy import NEVER

    schema.downgrade(ledger, "0024")
    today = dt.date.today()
    first_on = today + dt.timedelta(days=40)
    with ledger.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO catalogue_entry (dept_code, licence_name, approval_item, office, statutory_validity, "
                "first_lead_days, second_lead_days, renewal_window, renewal_deadline_days, online_url, "
                "service_phone, materials, lapse_consequences, updated_at) VALUES ('scjgj', '食品经营许可证', "
                "'食品经营许可', '审批科', '5年', 30, 7, '届满30日前', 10, 'https://zwfw.example.gov.cn', "
                "'0372-1234567', '[]', '无证经营将被查处。', '2026-11-01 00:00:00')"
            )
        )
        for no, expiry, first in (
            ("L1", today - dt.timedelta(days=10), today - dt.timedelta(days=40)),
            ("L2", first_on + dt.timedelta(days=30), first_on),
            ("L3", today + dt.timedelta(days=20), None),
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, "
                    "contact_mobile, expiry_date, first_reminder_on, row_hash, created_run, updated_run, "
                    "created_at, updated_at) VALUES ('scjgj', :no, '食品经营许可证', '某公司', 'org', "
                    "'13800000000', :expiry, :first, 'h', 'r', 'r', :now, :now)"
                ),
                {"no": no, "expiry": expiry, "first": first, "now": dt.datetime(2026, 11, 1)},
            )
    assert schema.upgrade(ledger) == schema.head()
    with ledger.connect() as conn:
        checks = dict(conn.execute(sa.text("SELECT licence_no, next_check_on FROM ledger")).all())
        checked = conn.execute(sa.text("SELECT checked_channels FROM catalogue_entry")).scalar_one()
    as_date = {
        k: v if v is None or isinstance(v, dt.date) else dt.date.fromisoformat(v)
        for k, v in checks.items()
    }
    assert as_date == {"L1": NEVER, "L2": first_on, "L3": None}
    assert checked == ""
    assert "ix_ledger_next_check" in {i["name"] for i in sa.inspect(ledger).get_indexes("ledger")}
    schema.downgrade(ledger, "0024")
    assert "next_check_on" not in {c["name"] for c in sa.inspect(ledger).get_columns("ledger")}
    assert "checked_channels" not in {
        c["name"] for c in sa.inspect(ledger).get_columns("catalogue_entry")
    }
    assert schema.upgrade(ledger) == schema.head()
