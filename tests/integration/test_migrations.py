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
    assert head == "0008"
    assert "source_read_at" in {c["name"] for c in sa.inspect(ledger).get_columns("sync_watermark")}
    assert "ix_ledger_first_reminder" not in {i["name"] for i in sa.inspect(ledger).get_indexes("ledger")}
    schema.downgrade(ledger, "base")
    assert set(sa.inspect(ledger).get_table_names()) <= {"alembic_version"}
    assert sa.inspect(ledger).get_view_names() == []
    assert schema.upgrade(ledger) == head
    assert {"v_delivery_log", "v_assessment_yearly"} <= set(sa.inspect(ledger).get_view_names())
