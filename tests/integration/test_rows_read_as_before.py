"""A full run does not validate again the rows the ledger holds exactly as the source gives them
(sync.ledger_state, docs/adr/0009): it skips them only under the rules and catalogue the last full
run validated every row under, never a licence with an open warning, in quarantine, duplicated,
gone, or written before source hashes existed; what it skips it counts read, valid, unchanged."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from licence_reminder import sync
from licence_reminder.sync import plan as planning
from support.ledger_world import (
    CATALOGUE,
    DEPT,
    NOT_IN_CATALOGUE,
    TODAY,
    licence,
    put,
    q,
    run_numbers,
)


def full_run(ledger: sa.Engine, source: sa.Engine, catalogue=CATALOGUE) -> sync.RunResult:  # type: ignore[no-untyped-def]
    plan = planning.start_run(
        ledger,
        DEPT,
        run_id=f"testdept:skip{next(run_numbers)}",
        logical_date=TODAY,
        force_full=True,
    )
    return sync.run(ledger, source, DEPT, catalogue, plan, today=TODAY)


def ledger_rows(ledger: sa.Engine) -> list[tuple]:
    return [
        tuple(r)
        for r in q(
            ledger,
            "SELECT licence_no, contact_mobile, source_hash, updated_run, row_hash "
            "FROM ledger ORDER BY licence_no",
        )
    ]


@pytest.mark.mariadb
def test_a_second_full_run_validates_only_what_changed(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(
        source,
        licence("S0001", 30),
        licence("S0002", 40),
        licence("S0003", 50),
        licence("S0004", 60, contact_mobile="1380000"),  # loaded with a warning (mobile_format)
        licence("S0005", 70, **NOT_IN_CATALOGUE),
    )  # quarantined
    first = full_run(ledger, source)
    assert first.stats.rows_read_as_before == 0  # nothing held yet
    assert all(r[2] and len(r[2]) == 32 for r in ledger_rows(ledger))
    before = ledger_rows(ledger)

    again = full_run(ledger, source)
    # S0001-S0003 skipped; S0004 (open warning) and S0005 (quarantined) validated again
    assert again.stats.rows_read_as_before == 3
    assert (again.stats.rows_read, again.stats.rows_valid, again.stats.rows_rejected) == (5, 4, 1)
    assert again.findings.totals["rows"] == 5 and again.findings.totals["valid"] == 4
    assert ledger_rows(ledger) == before
    assert again.published.updated == 0 and again.published.warnings_resolved == 0
    assert [
        tuple(r)
        for r in q(ledger, "SELECT licence_no FROM licence_warning WHERE resolved_at IS NULL")
    ] == [("S0004",)]
    assert [
        tuple(r) for r in q(ledger, "SELECT licence_no FROM quarantine WHERE resolved_at IS NULL")
    ] == [("S0005",)]

    put(source, licence("S0002", 40, contact_mobile="13900000002"), licence("S0005", 70))
    third = full_run(ledger, source)
    assert third.stats.rows_read_as_before == 2  # S0001, S0003
    assert (
        third.published.updated,
        third.published.inserted,
        third.published.quarantine_resolved,
    ) == (1, 1, 1)
    assert {r[0]: r[1] for r in ledger_rows(ledger)}["S0002"] == "13900000002"


@pytest.mark.mariadb
def test_new_rules_or_catalogue_validate_every_row_again(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("T0001", 30), licence("T0002", 40))
    full_run(ledger, source)
    assert full_run(ledger, source).stats.rows_read_as_before == 2
    renamed = CATALOGUE.model_copy(
        update={
            "entries": [
                e.model_copy(update={"licence_name": "食品生产许可证"}) for e in CATALOGUE.entries
            ]
        }
    )
    changed = full_run(ledger, source, renamed)
    # the catalogue no longer lists the licence: both rows are validated, and rejected
    assert changed.stats.rows_read_as_before == 0 and changed.stats.rows_rejected == 2
    assert (
        full_run(ledger, source).stats.rows_read_as_before == 0
    )  # back: the last full run's context differs
    assert full_run(ledger, source).stats.rows_read_as_before == 2


@pytest.mark.mariadb
def test_a_row_the_source_writes_otherwise_gets_its_new_source_hash_without_history(
    engines,
) -> None:  # type: ignore[no-untyped-def]
    """The same licence, its dates written another way: validated, the same ledger values, a new
    source hash written (no history row); the next full run skips it."""
    ledger, source = engines
    put(source, licence("U0001", 30), licence("U0002", 40))
    full_run(ledger, source)
    with source.begin() as conn:  # the register stores a time with the date now
        conn.execute(
            sa.text("UPDATE lic SET source_updated_at = :t WHERE licence_no = 'U0001'"),
            {"t": dt.datetime(2026, 11, 1, 8, 0, 0)},
        )
        conn.execute(sa.text("UPDATE lic SET contact_name = '张三 ' WHERE licence_no = 'U0001'"))
    hashes = {r[0]: (r[2], r[4]) for r in ledger_rows(ledger)}
    result = full_run(ledger, source)
    assert result.stats.rows_read_as_before == 1  # U0002
    after = {r[0]: (r[2], r[4]) for r in ledger_rows(ledger)}
    assert after["U0001"][1] == hashes["U0001"][1] and after["U0001"][0] != hashes["U0001"][0]
    assert q(ledger, "SELECT COUNT(*) FROM ledger_history WHERE licence_no = 'U0001'")[0][0] == 0
    assert full_run(ledger, source).stats.rows_read_as_before == 2


@pytest.mark.mariadb
def test_rows_without_a_source_hash_are_validated_and_given_one(engines) -> None:  # type: ignore[no-untyped-def]
    """As migration 0020 leaves a ledger: no source hashes. The next full run validates every row
    and writes them, changing nothing else."""
    ledger, source = engines
    put(
        source, licence("W0001", 30), licence("W0002", 40, **NOT_IN_CATALOGUE), licence("W0003", 50)
    )
    full_run(ledger, source)
    with ledger.begin() as conn:
        conn.execute(sa.text("UPDATE ledger SET source_hash = NULL"))
    values = [(r[0], r[1], r[4]) for r in ledger_rows(ledger)]
    result = full_run(ledger, source)
    assert result.stats.rows_read_as_before == 0 and result.published.updated == 2
    assert [(r[0], r[1], r[4]) for r in ledger_rows(ledger)] == values
    assert all(r[2] for r in ledger_rows(ledger))
    assert q(ledger, "SELECT COUNT(*) FROM ledger_history")[0][0] == 0
    # a rejected row's number still counts its position in the extract though rows before it were skipped
    again = full_run(ledger, source)
    assert again.stats.rows_read_as_before == 2
    (rej,) = again.findings.rejections
    assert rej.licence_no == "W0002" and rej.row_number == 2


@pytest.mark.mariadb
def test_a_duplicated_number_is_always_decided_again(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    put(source, licence("X0001", 30))
    with source.begin() as conn:  # a second row of X0001, changed later: it wins
        conn.execute(
            sa.text(
                "INSERT INTO lic (licence_no, licence_name, holder_name, holder_type, holder_code, contact_name, "
                "contact_id_no, contact_mobile, issue_date, expiry_date, status, source_updated_at) "
                "SELECT licence_no, licence_name, holder_name, holder_type, holder_code, contact_name, contact_id_no, "
                "'13900009999', issue_date, expiry_date, status, :later FROM lic WHERE licence_no = 'X0001'"
            ),
            {"later": dt.datetime(2026, 11, 2, 8, 0)},
        )
    put(source, licence("X0002", 40))
    full_run(ledger, source)
    result = full_run(ledger, source)
    assert result.stats.rows_read_as_before == 1  # X0002 only
    assert (
        q(ledger, "SELECT contact_mobile FROM ledger WHERE licence_no = 'X0001'")[0][0]
        == "13900009999"
    )
