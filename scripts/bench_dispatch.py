"""Benchmark: the SMS dispatch end to end against a bare `requests` loop to the same simulator.

    python scripts/bench_dispatch.py [--n 2000] [--rounds 3] [--rate 200] [--shards 1]
                                     [--simulator subprocess|thread]

In one run, on the same machine, against one simulator on loopback (signatures verified), in a
fresh MariaDB ledger (dropped at the end):
(a) the HTTP ceiling: a sequential ``requests.Session`` loop POSTing N Alibaba SendSms requests,
    signed before the clock starts;
(b) the full dispatch: ``dispatch.send_shard`` for N due messages (planned and rendered into the
    outbox beforehand, timed apart) — claim, sign, HTTP, audit rows, outbox and reminder records;
(c) the dispatch with ``--rate R``: the achieved rate from the first to the last gateway call.
(a) and (b) alternate for ``--rounds`` rounds and the best of each is compared, so that load from
elsewhere on this shared machine does not decide the ratio. Targets: (b)/(a) >= 0.5; achieved /
configured rate within 5%. Every phase checks that each message reached the simulator exactly
once and is recorded as sent. Needs MariaDB on 127.0.0.1 (root, no password). Not a test.

The simulator runs as a subprocess by default, as a provider is another machine: its CPU does
not share the sender's GIL. ``--simulator thread`` runs it in-process, for comparison (the ratio
came out about the same either way here: request and reply alternate, so the GIL is rarely
contended).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

import requests
import sqlalchemy as sa
from licence_reminder import dispatch, schema, sync
from licence_reminder.db import engine_from_url
from licence_reminder.gateways.aliyun import VERSION, AliyunSms, sign
from licence_reminder.gateways.base import LookupResult, SendResult, SmsGateway, SmsMessage
from licence_reminder.registry import catalogue_for, load_department

TODAY = dt.date(2026, 11, 24)
LICENCE = "食品经营许可证"  # expiring in 30 days, past its first reminder date (catalogue scjgj.yaml): due
KEY_ID, SECRET, SIGN_NAME = "sim-aliyun-key", "sim-aliyun-secret", "安阳市政务服务"
TEMPLATES: dict[str, str] = {}  # the simulator takes the template names as codes


def mysql(*statements: str) -> None:
    for s in statements:
        subprocess.run(["mariadb", "-h127.0.0.1", "-uroot", "-e", s], check=True)


# --------------------------------------------------------------------------- simulator
@contextmanager
def simulator(mode: str) -> Iterator[str]:
    """The simulator's base URL, as a subprocess (own interpreter, own GIL) or a thread."""
    if mode == "thread":
        from licence_reminder.simulator.server import start_in_thread

        with start_in_thread() as handle:
            yield handle.url
        return
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "licence_reminder.simulator",
                "--port",
                "0",
                "--port-file",
                str(port_file),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 20
            while not (port_file.exists() and port_file.read_text()):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the simulator did not start")
                time.sleep(0.05)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def take_accepted(base: str) -> list[str]:
    """The OutIds the simulator accepted since the last call (it forgets them)."""
    out = [m["out_id"] for m in requests.get(f"{base}/_sim/messages", timeout=30).json()]
    requests.post(f"{base}/_sim/reset", timeout=10)
    return out


# --------------------------------------------------------------------------- ledger
def fill(ledger: sa.Engine, *, first: int, n: int, shards: int, run_id: str) -> tuple[float, float]:
    """N licences due for their first reminder today (one holder mobile each), planned and
    rendered into the outbox; returns (plan seconds, render seconds)."""
    table = sa.Table("ledger", sa.MetaData(), autoload_with=ledger)
    now = dt.datetime(2026, 11, 1, 8, 0)
    rows = [
        {
            "dept_code": "scjgj",
            "licence_no": f"BENCH{i:08d}",
            "licence_name": LICENCE,
            "holder_name": "安阳市鑫源食品有限公司",
            "holder_type": "org",
            "contact_name": "张三",
            "contact_mobile": f"139{i:08d}",
            "issue_date": TODAY - dt.timedelta(days=1800),
            "expiry_date": TODAY + dt.timedelta(days=30),
            "status": "valid",
            "row_hash": f"{i:032d}",
            "created_run": run_id,
            "updated_run": run_id,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(first, first + n)
    ]
    with ledger.begin() as conn:
        conn.execute(table.insert(), rows)
    t = time.perf_counter()
    planned = dispatch.plan(ledger, today=TODAY, run_id=run_id)
    t_plan = time.perf_counter() - t
    profile = dispatch.GatewayProfile(
        conn_id="sms_gateway", provider="aliyun", sign_name=SIGN_NAME, templates=TEMPLATES
    )
    t = time.perf_counter()
    rendered = dispatch.render_outbox(
        ledger, today=TODAY, run_id=run_id, profile_for=lambda _: profile, shards=shards
    )
    t_render = time.perf_counter() - t
    assert planned.get("planned") == n and rendered.get("messages") == n, (planned, rendered)
    return t_plan, t_render


def check_exactly_once(ledger: sa.Engine, base: str, run_id: str) -> None:
    """Every message of the run reached the simulator exactly once and is recorded as sent, with
    one audit row and its reminder sent."""

    def q(query: str) -> list[sa.Row]:
        with ledger.connect() as conn:
            return list(conn.execute(sa.text(query), {"r": run_id}))

    sent = sorted(
        r.id for r in q("SELECT id FROM outbox_message WHERE run_id = :r AND status = 'sent'")
    )
    counts = (
        len(q("SELECT id FROM outbox_message WHERE run_id = :r")),
        len(q("SELECT id FROM delivery_attempt WHERE run_id = :r")),
        len(q("SELECT id FROM reminder WHERE planned_run = :r AND status = 'sent'")),
    )
    accepted = sorted(take_accepted(base))
    assert accepted == sent and counts == (len(sent),) * 3, (len(accepted), len(sent), counts)


# --------------------------------------------------------------------------- phases
def ceiling(base: str, n: int) -> float:
    """Seconds for N signed SendSms POSTs in a bare sequential requests.Session loop."""
    bodies = []
    for i in range(n):
        params = {
            "Action": "SendSms",
            "Version": VERSION,
            "Format": "JSON",
            "AccessKeyId": KEY_ID,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": f"138{i:08d}",
            "SignName": SIGN_NAME,
            "TemplateCode": "SMS_1",
            "TemplateParam": json.dumps({"name": "张三", "licence": LICENCE}, ensure_ascii=False),
            "OutId": uuid.uuid4().hex,
        }
        params["Signature"] = sign(params, SECRET)
        bodies.append(params)
    url = f"{base}/aliyun/"
    with requests.Session() as session:
        t = time.perf_counter()
        for body in bodies:
            resp = session.post(url, data=body, timeout=10)
            assert resp.json()["Code"] == "OK"
        secs = time.perf_counter() - t
    assert len(take_accepted(base)) == n
    return secs


class TimedGateway(SmsGateway):
    """One shard's adapter, noting when each call starts (the rate is measured first to last call)."""

    def __init__(self, inner: AliyunSms) -> None:
        self.inner, self.name, self.starts = inner, inner.name, list[float]()

    def send(self, message: SmsMessage) -> SendResult:
        self.starts.append(time.perf_counter())
        return self.inner.send(message)

    def lookup(self, message: SmsMessage, sent_on: dt.date) -> LookupResult:
        return self.inner.lookup(message, sent_on)


def dispatch_run(
    ledger: sa.Engine, base: str, *, shards: int, run_id: str, rate: float | None
) -> tuple[float, list[list[float]], dict[str, int]]:
    """send_shard over every shard, one thread per shard (one sequential sender when shards=1);
    then checks that every message reached the simulator exactly once."""
    gateways = [
        TimedGateway(
            AliyunSms(
                endpoint=f"{base}/aliyun/",
                access_key_id=KEY_ID,
                access_key_secret=SECRET,
                sign_name=SIGN_NAME,
            )
        )
        for _ in range(shards)
    ]

    def send(shard: int) -> dict[str, int]:
        return dispatch.send_shard(
            ledger,
            lambda _: gateways[shard],
            shard=shard,
            run_id=run_id,
            rate=rate,
            max_wait_seconds=0,
        )

    t = time.perf_counter()
    with ThreadPoolExecutor(max_workers=shards) as pool:
        outs = list(pool.map(send, range(shards)))
    secs = time.perf_counter() - t
    for gw in gateways:
        gw.inner.close()
    check_exactly_once(ledger, base, run_id)
    return secs, [gw.starts for gw in gateways], dict(sum(map(Counter, outs), Counter()))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000, help="messages (and bare requests) per round")
    ap.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating (a), (b) rounds; the best of each is compared",
    )
    ap.add_argument(
        "--rate", type=float, default=200.0, help="configured messages/s per shard for (c)"
    )
    ap.add_argument("--shards", type=int, default=1, help="send shards, each in its own thread")
    ap.add_argument("--simulator", choices=("subprocess", "thread"), default="subprocess")
    args = ap.parse_args()
    n, shards = args.n, args.shards
    rate_n = max(2, min(n, round(args.rate * shards * 10)))  # about 10 s at the configured rate
    name = f"bench_dispatch_{uuid.uuid4().hex[:8]}"
    mysql(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
    ledger = engine_from_url(f"mysql+pymysql://root@127.0.0.1/{name}?charset=utf8mb4")
    try:
        schema.upgrade(ledger)
        dept = load_department(ROOT / "include/registry/departments/scjgj.yaml")
        sync.register_department(
            ledger, dept, catalogue_for("scjgj", ROOT / "include/registry/catalogues")
        )
        bare: list[float] = []
        full: list[float] = []
        with simulator(args.simulator) as base:
            print(f"ledger {name}; simulator: {args.simulator}, {base}; sender: {shards} shard(s)")
            # (a) and (b) alternate so that a burst of load from elsewhere on the machine hits both
            for r in range(args.rounds):
                t_plan, t_render = fill(
                    ledger, first=r * n, n=n, shards=shards, run_id=f"bench:full{r}"
                )
                print(
                    f"round {r + 1}: {n:,} due reminders planned in {t_plan:.2f} s, rendered into the "
                    f"outbox in {t_render:.2f} s ({n / (t_plan + t_render):,.0f} messages/s)",
                    flush=True,
                )
                bare.append(ceiling(base, n))
                secs, _, out = dispatch_run(
                    ledger, base, shards=shards, run_id=f"bench:full{r}", rate=None
                )
                full.append(secs)
            fill(ledger, first=args.rounds * n, n=rate_n, shards=shards, run_id="bench:rate")
            _, starts, rate_out = dispatch_run(
                ledger, base, shards=shards, run_id="bench:rate", rate=args.rate
            )
        # the rate is per sender (LR_SEND_RATE is per send task): each shard's, the worst compared
        achieved = sorted((len(s) - 1) / (s[-1] - s[0]) for s in starts if len(s) > 1)
        accuracy = max((a / args.rate for a in achieved), key=lambda x: abs(x - 1))

        def rates(secs: list[float]) -> str:
            return " / ".join(f"{n / s:,.0f}" for s in secs)

        print(
            f"\n(a) bare requests loop     {n:>6,} requests  best {n / min(bare):7,.0f} msgs/s  "
            f"(rounds: {rates(bare)}) — the HTTP ceiling"
        )
        print(
            f"(b) full dispatch          {n:>6,} messages  best {n / min(full):7,.0f} msgs/s  "
            f"(rounds: {rates(full)}) {out}"
        )
        print(
            f"(c) dispatch at --rate {args.rate:<4g}{rate_n:>6,} messages  "
            f"{' / '.join(f'{a:,.1f}' for a in achieved)} msgs/s (first to last call, per shard) {rate_out}"
        )
        ratio = min(bare) / min(full)
        print(
            f"\nratio (b)/(a): {ratio:.2f} (target >= 0.5: {'met' if ratio >= 0.5 else 'NOT met'}); "
            f"round by round: {' / '.join(f'{a / b:.2f}' for a, b in zip(bare, full))}"
        )
        print(
            f"rate achieved/configured: {accuracy:.3f} (target within 5%: "
            f"{'met' if abs(accuracy - 1) <= 0.05 else 'NOT met'})"
        )
        print("exactly once: every message reached the simulator once and is recorded sent")
    finally:
        if schema.current(ledger):  # revokes the auditor role's grants, which DROP DATABASE keeps
            schema.downgrade(ledger, "base")
        ledger.dispose()
        mysql(f"DROP DATABASE IF EXISTS {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
