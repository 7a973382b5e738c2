"""The command line says what is wrong with the ledger in a sentence, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from licence_reminder import cli


def test_a_ledger_without_schema_says_to_upgrade_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["summary", "--url", f"sqlite:///{tmp_path / 'ledger.db'}"]) == 2
    assert "the ledger database has no schema yet" in capsys.readouterr().err


def test_an_undefined_ledger_connection_names_the_variable(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LICENCE_LEDGER", raising=False)
    monkeypatch.setenv("LR_LEDGER_CONN_ID", "no_such_ledger")
    assert cli.main(["summary"]) == 2
    assert "connection 'no_such_ledger' is not defined: set AIRFLOW_CONN_NO_SUCH_LEDGER" in capsys.readouterr().err


def test_an_empty_ledger_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert cli.main(["db", "upgrade", "--url", url]) == 0
    assert cli.main(["summary", "--url", url]) == 0
    assert "no department in the ledger database yet" in capsys.readouterr().out
