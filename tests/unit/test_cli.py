"""The command line says what is wrong with the ledger in a sentence, not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from licence_reminder import cli


def test_a_ledger_without_schema_says_to_upgrade_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["summary", "--url", f"sqlite:///{tmp_path / 'ledger.db'}"]) == 2
    assert "the ledger database has no schema yet" in capsys.readouterr().err


def test_an_undefined_ledger_connection_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AIRFLOW_CONN_LICENCE_LEDGER", raising=False)
    monkeypatch.setenv("LR_LEDGER_CONN_ID", "no_such_ledger")
    assert cli.main(["summary"]) == 2
    assert (
        "connection 'no_such_ledger' is not defined: set AIRFLOW_CONN_NO_SUCH_LEDGER"
        in capsys.readouterr().err
    )


def test_an_empty_ledger_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert cli.main(["db", "upgrade", "--url", url]) == 0
    assert cli.main(["summary", "--url", url]) == 0
    assert "no department in the ledger database yet" in capsys.readouterr().out


def test_catalogue_templates_prints_each_providers_text_and_variables(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    monkeypatch.setenv("LR_CATALOGUE_URL", "https://zwfw.example.gov.cn/tx")
    monkeypatch.setenv(
        "LR_CATALOGUE_DIR", str(Path(cli.__file__).resolve().parents[1] / "registry" / "catalogues")
    )
    assert cli.main(["catalogue", "templates", "--dept", "scjgj", "--today", "2026-12-07"]) == 0
    out = capsys.readouterr().out
    assert "scjgj.spjy.stage1  食品经营许可证, stage 1" in out
    assert "  tencent  尊敬的{1}：{2}的食品经营许可证（尾号{3}）将于{4}到期" in out
    assert "${holder}: the licence holder" in out and "caps: aliyun 35" in out
    assert "example (130 characters, 2 SMS): 【安阳市政务服务】尊敬的刘伟：" in out
    assert (
        cli.main(
            ["catalogue", "templates", "--json", "--provider", "aliyun", "--today", "2026-12-07"]
        )
        == 0
    )
    items = json.loads(capsys.readouterr().out)
    assert {i["name"] for i in items} >= {"jtysj.cyzg.stage2", "scjgj.ypjy.stage1"}
    assert all(set(i["texts"]) == {"aliyun"} and i["example_segments"] <= 2 for i in items)


def test_catalogue_check_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shipped = Path(cli.__file__).resolve().parents[1] / "registry" / "catalogues" / "scjgj.yaml"
    assert cli.main(["catalogue", "check", str(shipped), "--provider", "tencent"]) == 0
    assert (
        "ok    " in (out := capsys.readouterr().out)
        and "4 templates checked against tencent" in out
    )
    broken = tmp_path / "scjgj.yaml"
    broken.write_text(
        shipped.read_text(encoding="utf-8").replace(
            "licence_no_digits: 6", "licence_no_digits: 9", 1
        ),
        encoding="utf-8",
    )
    assert cli.main(["catalogue", "check", str(broken)]) == 1
    assert "licence_no_digits" in capsys.readouterr().out


def test_summary_shows_the_messages_by_length_and_their_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    import sqlalchemy as sa
    from licence_reminder.config import local_now

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    assert cli.main(["db", "upgrade", "--url", url]) == 0
    engine = sa.create_engine(url)
    now = local_now()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO department (code, name, region_code, updated_at) "
                "VALUES ('scjgj', '安阳市市场监督管理局', '410500', :t)"
            ),
            {"t": now},
        )
        for i, (segments, status, sent) in enumerate(
            [(2, "sent", now), (2, "delivered", now), (3, "sent", now), (2, "superseded", None)]
        ):
            conn.execute(
                sa.text(
                    "INSERT INTO outbox_message (id, dept_code, channel, gateway, gateway_conn_id, recipient, "
                    "recipient_masked, template_name, params, body, body_sha256, body_length, segments, status, "
                    "run_id, created_at, sent_at, updated_at) VALUES (:id, 'scjgj', 'sms', 'aliyun', 'g', 'r', "
                    "'r', 't', '{}', 'b', 'h', 100, :s, :status, 'run', :t, :sent, :t)"
                ),
                {"id": f"m{i}", "s": segments, "status": status, "t": now, "sent": sent},
            )
        conn.execute(
            sa.text(
                "INSERT INTO ledger (dept_code, licence_no, licence_name, holder_name, holder_type, contact_mobile, "
                "expiry_date, status, row_hash, created_run, updated_run, created_at, updated_at) VALUES ('scjgj', "
                "'L1', '食品经营许可证', '安阳市永盛食品有限公司', 'org', '13800000001', :e, 'valid', 'h', 'run', 'run', "
                ":t, :t)"
            ),
            {"e": now.date() + dt.timedelta(days=100), "t": now},
        )
    engine.dispose()
    assert cli.main(["summary", "--url", url, "--price", "0.05"]) == 0
    out = capsys.readouterr().out
    # 3 messages written (the superseded one is not billed): 2 of 2 SMS and 1 of 3; billed 7 SMS
    assert (
        "SMS length  : 2 messages of 2 SMS, 1 of 3 SMS (last 365 days); billed 7 SMS = ¥0.35; "
        "next 365 days: 1 licences expire, at most ¥0.23 (¥0.05 a billed SMS, LR_SMS_PRICE)"
    ) in out
