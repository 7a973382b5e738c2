"""The demo's channels beside SMS: the mini-program and the in-system prompts, end to end.

    python -m licence_reminder.demo.channels catalogues --from include/registry/catalogues --to var/demo/catalogues
    python -m licence_reminder.demo.channels consents --api URL --sim URL --today 2026-11-24
    python -m licence_reminder.demo.channels prompts --api URL

- ``catalogues``: the demo runs on a copy of the shipped catalogues in which the market
  regulator's entries (``scjgj``) use SMS, mini-program and in-system prompt at both stages. The
  shipped files stay SMS-only: a deployment names the mini-program only once its WeChat
  connection exists (docs/channels.md).
- ``consents``: as the mini-program's back end would, reports a few holders' "allow" to the
  intake API (holders whose reminder is due today), and tells the simulated WeChat that they
  subscribed. Run again, the intake answers "already recorded".
- ``prompts``: as the market regulator's business system would, pulls its prompts and
  acknowledges the first open one as shown to its holder.

The tokens are the demo's published ones (``scripts/demo-env.sh``), never real ones.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path

import requests

DEMO_DEPT = "scjgj"
POLICY = {"stage1": ["sms", "miniprogram", "prompt"], "stage2": ["sms", "miniprogram", "prompt"]}
API_PREFIX = "/licence-reminder-channels"


def catalogues(source: Path, target: Path) -> None:
    import yaml

    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        if path.stem == DEMO_DEPT:
            data = yaml.safe_load(text)
            for entry in data["entries"]:
                entry["channels"] = POLICY
            text = (
                "# The demo's copy (licence_reminder.demo.channels): every entry uses SMS, the WeChat\n"
                "# mini-program and the business system's prompt.\n"
                + yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
            )
        (target / path.name).write_text(text, encoding="utf-8")


def _token(client: str) -> str:
    import json

    conn = json.loads(os.environ[f"AIRFLOW_CONN_LR_CLIENT_{client.upper()}"])
    return f"{client}.{conn['password']}"


def consents(api: str, sim: str, today: dt.date, limit: int = 3) -> int:
    import sqlalchemy as sa

    from licence_reminder.config import Settings
    from licence_reminder.db import engine_for
    from licence_reminder.simulator.wechat import DEMO_TEMPLATE_ID

    with engine_for(Settings.from_env().ledger_conn_id).connect() as conn:
        holders = list(
            conn.execute(
                sa.text(
                    "SELECT licence_no, contact_mobile FROM ledger WHERE dept_code = :d AND status = 'valid' "
                    "AND vanished_at IS NULL AND contact_mobile IS NOT NULL AND first_reminder_on <= :t "
                    "AND expiry_date >= :t ORDER BY first_reminder_on DESC, licence_no LIMIT :n"
                ),
                {"d": DEMO_DEPT, "t": today, "n": limit},
            )
        )
    token = {"Authorization": f"Bearer {_token('demo_miniapp')}"}
    created = 0
    for i, h in enumerate(holders):
        openid = f"oDemo{i:02d}{h.licence_no[-8:]:_>8}".ljust(28, "x")[:28]
        body = {
            "client_ref": f"demo-{h.licence_no}",
            "openid": openid,
            "template_id": DEMO_TEMPLATE_ID,
            "kind": "one_time",
            "contact_mobile": h.contact_mobile,
            "dept_code": DEMO_DEPT,
            "source": "demo: licence page",
        }
        resp = requests.post(f"{api}{API_PREFIX}/v1/consents", json=body, headers=token, timeout=10)
        resp.raise_for_status()
        if resp.status_code == 201:
            created += 1
            requests.post(
                f"{sim}/_sim/wechat/subscribe",
                timeout=10,
                json={"openid": openid, "template_id": DEMO_TEMPLATE_ID},
            ).raise_for_status()
    print(
        f"mini-program: {len(holders)} holders of {DEMO_DEPT} subscribed to the reminder template "
        f"({created} consents recorded now through the intake API, {len(holders) - created} already recorded)"
    )
    return 0


def prompts(api: str) -> int:
    token = {"Authorization": f"Bearer {_token('demo_scjgj_biz')}"}
    feed, cursor = [], "0"
    while True:
        page = requests.get(
            f"{api}{API_PREFIX}/v1/departments/{DEMO_DEPT}/prompts",
            headers=token,
            params={"cursor": cursor, "limit": 200},
            timeout=10,
        )
        page.raise_for_status()
        body = page.json()
        feed += body["prompts"]
        cursor = body["next_cursor"]
        if not body["has_more"]:
            break
    latest = {p["id"]: p for p in feed}  # a prompt that changed shows again later in the feed
    opened = [p for p in latest.values() if p["status"] == "open"]
    acknowledged = 0
    if opened:
        ack = requests.post(
            f"{api}{API_PREFIX}/v1/departments/{DEMO_DEPT}/prompts/ack",
            headers=token,
            json={"ids": [opened[0]["id"]], "acknowledged_by": "demo: online hall login"},
            timeout=10,
        )
        ack.raise_for_status()
        acknowledged = sum(r["acknowledged"] for r in ack.json()["results"])
    done = sum(p["status"] == "acknowledged" for p in latest.values()) + acknowledged
    print(
        f"in-system prompts: the {DEMO_DEPT} business system pulled {len(latest)}, "
        f"{len(opened) - acknowledged} open, {done} acknowledged as shown to their holders"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    cat = sub.add_parser("catalogues")
    cat.add_argument("--from", dest="source", type=Path, required=True)
    cat.add_argument("--to", dest="target", type=Path, required=True)
    con = sub.add_parser("consents")
    con.add_argument("--api", required=True)
    con.add_argument("--sim", required=True)
    con.add_argument("--today", required=True)
    pro = sub.add_parser("prompts")
    pro.add_argument("--api", required=True)
    args = parser.parse_args(argv)
    if args.command == "catalogues":
        catalogues(args.source, args.target)
        return 0
    if args.command == "consents":
        return consents(args.api, args.sim, dt.date.fromisoformat(args.today))
    return prompts(args.api)


if __name__ == "__main__":
    sys.exit(main())
