"""The assessor's yearly figures (v_assessment_yearly) against MariaDB and SQLite."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from support.ledger_world import licence, put, q, run_sync

# The view compares with the database's CURRENT_DATE: the story is told around the real today.
R = dt.date.today()
FIGURES = (
    "licence_cycles",
    "expired_to_date",
    "reminded",
    "reminder_delivered",
    "renewed_before_expiry",
    "renewed_after_expiry",
    "applied_before_expiry",
    "lapsed",
    "lapsed_unreminded",
)


def days(n: int) -> dt.date:
    return R + dt.timedelta(days=n)


@pytest.mark.mariadb
def test_yearly_figures_tell_renewed_applied_and_lapsed_cycles_apart(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(
        source,
        licence("A0001", 0, expiry_date=days(10)),  # renewed before it expired
        licence("B0002", 0, expiry_date=days(-10)),  # lapsed, never reminded
        licence("C0003", 0, expiry_date=days(-5)),  # lapsed, though a reminder was delivered
        licence("D0004", 0, expiry_date=days(-3), renewal_applied_on=days(-20)),  # applied in time
        licence("E0005", 0, expiry_date=days(100)),  # not due yet
        licence("F0006", 0, expiry_date=days(-10), status="revoked"),  # not counted
        licence("G0007", 0, expiry_date=days(-10)),
    )  # renewed after it had expired
    run_sync(ledger, source, today=R)
    later = dt.datetime.combine(R, dt.time(8))
    put(
        source,
        licence("A0001", 0, expiry_date=days(10 + 5 * 365), source_updated_at=later),
        licence("G0007", 0, expiry_date=days(5 * 365), source_updated_at=later),
    )
    run_sync(ledger, source, today=R)
    (c,) = q(ledger, "SELECT id FROM ledger WHERE licence_no = 'C0003'")
    with ledger.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO reminder (ledger_id, dept_code, licence_no, cycle, expiry_date, stage, channel, "
                "due_on, planned_run, status, created_at, updated_at) VALUES (:id, 'testdept', 'C0003', 1, "
                ":expiry, 1, 'sms', :due, 'd', 'delivered', :now, :now)"
            ),
            {"id": c.id, "expiry": days(-5), "due": days(-35), "now": dt.datetime.now()},
        )

    rows = q(ledger, f"SELECT dept_code, year, {', '.join(FIGURES)} FROM v_assessment_yearly")
    assert {r.dept_code for r in rows} == {"testdept"}
    totals = {f: sum(int(getattr(r, f)) for r in rows) for f in FIGURES}
    assert totals == {
        "licence_cycles": 8,  # A and G twice (the renewed cycle and the new one), B, C, D, E
        "expired_to_date": 4,  # B, C, D, G's first
        "reminded": 1,
        "reminder_delivered": 1,  # C
        "renewed_before_expiry": 1,  # A
        "renewed_after_expiry": 1,  # G
        "applied_before_expiry": 1,  # D
        "lapsed": 2,  # B, C
        "lapsed_unreminded": 1,  # B
    }
    years = {r.year for r in rows}
    assert str(days(10 + 5 * 365).year) in years and all(len(y) == 4 for y in years)
