"""Identity numbers at rest (protect.py, docs/security.md): after syncs that load, change and
reject rows holding them, a dump of the ledger database holds none in clear; the digests find a
number's licences; a new key takes over at the next full run; migration 0019 converts a ledger."""

from __future__ import annotations

import base64
import io
import json
import re
import sqlite3
import subprocess
from typing import Any

import pytest
import sqlalchemy as sa
from licence_reminder import protect, schema
from support.ledger_world import NOT_IN_CATALOGUE, licence, put, q, run_sync

CONTACT_IDS = ("410505199001011236", "110101198003070025")
PERSON_HOLDER = "410522198812120014"
SECOND = {
    "current": "test2",
    "keys": {"test1": None, "test2": base64.b64encode(b"second-test-key-" * 2).decode()},
}


def _resident_ids(text: str) -> set[str]:
    """Every resident ID number in ``text`` whose check character is right."""
    from stdnum.cn import ric

    return {m for m in re.findall(r"(?<![0-9])[0-9]{17}[0-9X](?![0-9])", text) if ric.is_valid(m)}


def _dump(ledger: sa.Engine) -> str:
    url = ledger.url
    if url.get_backend_name() == "sqlite":
        conn = sqlite3.connect(url.database)
        try:
            return "\n".join(conn.iterdump())
        finally:
            conn.close()
    out = subprocess.run(
        [
            "mariadb-dump",
            f"-h{url.host}",
            f"-P{url.port or 3306}",
            f"-u{url.username}",
            "--skip-extended-insert",
            url.database,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout


def _ring(monkeypatch: pytest.MonkeyPatch, extra: dict[str, Any]) -> protect.KeyRing:
    monkeypatch.setenv(
        "AIRFLOW_CONN_LR_PII_KEYS", json.dumps({"conn_type": "generic", "extra": extra})
    )
    return protect.key_ring()


@pytest.mark.mariadb
def test_a_ledger_dump_holds_no_identity_number(engines) -> None:  # type: ignore[no-untyped-def]
    ledger, source = engines
    ring = protect.key_ring()
    put(
        source,
        licence("A0001", 20, contact_id_no=CONTACT_IDS[0]),
        licence("A0002", 40, contact_id_no=CONTACT_IDS[1]),
        licence("A0003", 60, holder_type="person", holder_code=PERSON_HOLDER, contact_id_no=None),
        licence("A0004", 20, contact_id_no=CONTACT_IDS[1], **NOT_IN_CATALOGUE),
    )  # rejected: quarantined
    run_sync(ledger, source, full=True)
    put(
        source, licence("A0001", 20, contact_id_no=CONTACT_IDS[1])
    )  # a change: history, old and new
    run_sync(ledger, source, full=True)

    rows = {
        r.licence_no: r
        for r in q(
            ledger,
            "SELECT licence_no, contact_id_no, contact_id_digest, "
            "holder_code, holder_code_digest FROM ledger",
        )
    }
    assert rows["A0001"].contact_id_no == "110*************25"
    assert rows["A0001"].contact_id_digest == ring.digest(CONTACT_IDS[1])
    assert (rows["A0003"].holder_code, rows["A0003"].holder_code_digest) == (
        "410*************14",
        ring.digest(PERSON_HOLDER),
    )
    assert (
        rows["A0002"].holder_code_digest is None and "*" not in rows["A0002"].holder_code
    )  # a USCC stays
    (history,) = q(
        ledger, "SELECT old_values, new_values FROM ledger_history WHERE licence_no = 'A0001'"
    )
    assert json.loads(history.old_values)["contact_id_digest"] == ring.digest(CONTACT_IDS[0])
    (quarantined,) = q(ledger, "SELECT raw_values FROM quarantine WHERE licence_no = 'A0004'")
    assert json.loads(quarantined.raw_values)["contact_id_no"] == "110*************25"

    dump = _dump(ledger)
    assert "A0004" in dump and "410*************14" in dump  # the dump is the whole database
    assert _resident_ids(dump) == set()


@pytest.mark.mariadb
def test_a_new_key_takes_over_at_the_next_full_run(
    engines, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:  # type: ignore[no-untyped-def]
    from licence_reminder import cli

    ledger, source = engines
    first = protect.key_ring()
    put(
        source,
        licence("B0001", 20, contact_id_no=CONTACT_IDS[0]),
        licence("B0002", 30, holder_type="person", holder_code=PERSON_HOLDER, contact_id_no=None),
    )
    run_sync(ledger, source, full=True)
    from licence_reminder.channels import consent

    consent.record(
        ledger,
        "mp_test",
        {
            "client_ref": "c1",
            "openid": "o" + "x" * 27,
            "template_id": "T" * 43,
            "holder_code": PERSON_HOLDER,
        },
    )
    second = _ring(
        monkeypatch,
        {
            **SECOND,
            "keys": {**SECOND["keys"], "test1": base64.b64encode(first.keys["test1"]).decode()},
        },
    )

    url = ledger.url.render_as_string(hide_password=False)
    assert cli.main(["pii", "status", "--url", url]) == 0
    out = capsys.readouterr().out
    assert "under an older key: the next full run rewrites it" in out
    (consents,) = [line for line in out.splitlines() if line.strip().startswith("consents")]
    assert "test1" in consents and " 1 granted" in consents and "under an older key" in consents
    monkeypatch.setattr("sys.stdin", io.StringIO(CONTACT_IDS[0] + "\n"))
    assert cli.main(["pii", "find", "--url", url, "--by", "tester"]) == 0  # found under the old key
    assert "B0001" in capsys.readouterr().out

    history_before = len(q(ledger, "SELECT id FROM ledger_history"))
    run_sync(ledger, source, full=True)
    digests = {
        r.licence_no: (r.contact_id_digest, r.holder_code_digest)
        for r in q(ledger, "SELECT licence_no, contact_id_digest, holder_code_digest FROM ledger")
    }
    assert digests == {
        "B0001": (second.digest(CONTACT_IDS[0]), None),
        "B0002": (None, second.digest(PERSON_HOLDER)),
    }
    assert (
        len(q(ledger, "SELECT id FROM ledger_history")) == history_before
    )  # nothing changed but the key
    assert cli.main(["pii", "status", "--url", url]) == 0
    assert "every digest is under the current key" in capsys.readouterr().out
    monkeypatch.setattr("sys.stdin", io.StringIO(PERSON_HOLDER + "\n"))
    assert cli.main(["pii", "find", "--url", url, "--by", "tester"]) == 0
    assert "holder of" in capsys.readouterr().out
    (audit,) = q(
        ledger, "SELECT COUNT(*) AS n FROM personal_data_access WHERE via = 'cli pii find'"
    )
    assert audit.n == 2


@pytest.mark.mariadb
def test_0019_converts_an_existing_ledger_and_its_history(
    engines, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    ledger, _source = engines
    schema.downgrade(ledger, "0013")
    with ledger.begin() as conn:  # as a version before 0019 left it: numbers in clear
        conn.execute(
            sa.text(
                "INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, holder_code, "
                "contact_id_no, expiry_date, status, row_hash, cycle, created_run, updated_run, created_at, updated_at) "
                "VALUES ('testdept', 'C0001', '食品经营许可证', '某人', 'person', :code, :cid, '2027-01-01', 'valid', "
                "'x', 1, 'old', 'old', '2026-01-01', '2026-01-01')"
            ),
            {"code": PERSON_HOLDER, "cid": CONTACT_IDS[0]},
        )
        ledger_id = conn.execute(
            sa.text("SELECT id FROM ledger WHERE licence_no = 'C0001'")
        ).scalar()
        conn.execute(
            sa.text(
                "INSERT INTO ledger_history (ledger_id, dept_code, licence_no, run_id, change_kind, old_values, "
                "new_values, changed_at) VALUES (:id, 'testdept', 'C0001', 'old', 'update', :old, :new, '2026-02-01')"
            ),
            {
                "id": ledger_id,
                "old": json.dumps(
                    {
                        "contact_id_no": CONTACT_IDS[1],
                        "holder_code": PERSON_HOLDER,
                        "holder_type": "person",
                    }
                ),
                "new": json.dumps(
                    {
                        "contact_id_no": CONTACT_IDS[0],
                        "holder_code": PERSON_HOLDER,
                        "holder_type": "person",
                    }
                ),
            },
        )
        conn.execute(
            sa.text(
                "INSERT INTO quarantine (dept_code, record_key, licence_no, source_row, rules, reasons, raw_values, "
                "first_run_id, run_id, first_seen_at, last_seen_at, open_key) VALUES ('testdept', 'C0002', 'C0002', 1, "
                "'x', '[]', :raw, 'old', 'old', '2026-01-01', '2026-01-01', 'testdept|C0002')"
            ),
            {"raw": json.dumps({"contact_id_no": CONTACT_IDS[1]})},
        )
    assert _resident_ids(_dump(ledger))  # the numbers are there before
    with (
        monkeypatch.context() as m
    ):  # no key ring: refused before any change (MariaDB's DDL is not transactional)
        m.delenv("AIRFLOW_CONN_LR_PII_KEYS")
        with pytest.raises(RuntimeError, match="connection 'lr_pii_keys'"):
            schema.upgrade(ledger)
        assert "contact_id_digest" not in {
            c["name"] for c in sa.inspect(ledger).get_columns("ledger")
        }
    assert schema.upgrade(ledger) == schema.head()

    ring = protect.key_ring()
    (row,) = q(
        ledger,
        "SELECT contact_id_no, contact_id_digest, holder_code, holder_code_digest FROM ledger",
    )
    assert tuple(row) == (
        "410*************36",
        ring.digest(CONTACT_IDS[0]),
        "410*************14",
        ring.digest(PERSON_HOLDER),
    )
    (h,) = q(ledger, "SELECT old_values FROM ledger_history")
    assert json.loads(h.old_values)["contact_id_digest"] == ring.digest(CONTACT_IDS[1])
    assert _resident_ids(_dump(ledger)) == set()
    with (
        pytest.raises(sa.exc.DBAPIError),
        ledger.begin() as conn,
    ):  # the history is append-only again
        conn.execute(sa.text("UPDATE ledger_history SET run_id = 'x'"))
    schema.downgrade(ledger, "0013")
    assert "contact_id_digest" not in {c["name"] for c in sa.inspect(ledger).get_columns("ledger")}
    assert schema.upgrade(ledger) == schema.head()
