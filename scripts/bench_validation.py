"""Benchmark of chunk validation on synthetic canonical rows.

Usage: PYTHONPATH=include .venv/bin/python scripts/bench_validation.py [--rows N] [--chunk N]

Chunks are built like the extractor builds them (``DataFrame.from_records`` of driver tuples:
``str``, ``int``, ``datetime.date``, ``datetime.datetime``, ``None``), 2 % of rows defective
by default (``--defects``).
Generation is not timed. Prints rows/s for (a) the rule derivation alone (pandas + per-value
Python, no GX), (b) the full Validator including Great Expectations as the product runs it (the
checks derivation decides as one expectation on their conjunction) and (c) the same with one
expectation per rule (each derived check its own boolean column and expectation, as custom
expectations would be), both over batches of ``--batch`` rows as a sync validates them: the
cost docs/adr/0007-one-expectation-per-rule.md weighs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "include"))

CATALOGUE = (
    "食品经营许可证",
    "道路运输经营许可证",
    "药品经营许可证",
    "排污许可证",
    "建筑施工企业安全生产许可证",
)
TODAY = dt.date(2026, 11, 24)


def _pools(rng: random.Random, size: int) -> dict[str, list[str]]:
    from stdnum.cn import ric, uscc

    regions = ("410502", "410503", "410505", "440305", "110101", "410522")
    rids, usccs, mobiles = [], [], []
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    for _ in range(size):
        birth = dt.date(1950, 1, 1) + dt.timedelta(days=rng.randrange(365 * 55))
        body = f"{rng.choice(regions)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        rids.append(body + ric.calc_check_digit(body + "0"))
        body = "91" + rng.choice(regions) + "".join(rng.choice(alphabet) for _ in range(9))
        usccs.append(body + uscc.calc_check_digit(body + "0"))
        mobiles.append(f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}")
    return {"rid": rids, "uscc": usccs, "mobile": mobiles}


def make_chunk(
    start: int,
    size: int,
    rng: random.Random,
    pools: dict[str, list[str]],
    defect_rate: float = 0.02,
) -> pd.DataFrame:
    import pandas as pd
    from licence_reminder.records import CANONICAL_COLUMNS

    rows = []
    for k in range(start, start + size):
        person = rng.random() < 0.4
        issue = dt.date(2015, 1, 1) + dt.timedelta(days=rng.randrange(365 * 11))
        expiry = issue + dt.timedelta(days=365 * rng.choice((3, 5, 6)))
        mobile: object = rng.choice(pools["mobile"])
        r = rng.random()
        if r < 0.05:
            mobile = "+86 " + str(mobile)[:3] + "-" + str(mobile)[3:7] + "-" + str(mobile)[7:]
        elif r < 0.10:
            mobile = int(str(mobile))
        row = [
            f"LIC{k:09d}",
            rng.choice(CATALOGUE),
            "张某" if person else "某某有限公司",
            rng.choice(("个人", "person", "2"))
            if person
            else rng.choice(("单位", "org", "企业", "1")),
            rng.choice(pools["rid"]) if person else rng.choice(pools["uscc"]),
            "李某",
            rng.choice(pools["rid"]),
            mobile,
            issue,
            expiry if rng.random() < 0.9 else expiry.strftime("%Y-%m-%d"),
            rng.choice(("有效", "有效", "有效", "正常", None, "吊销", "注销")),
            None if rng.random() < 0.95 else expiry - dt.timedelta(days=20),
            dt.datetime(2026, 1, 1) + dt.timedelta(seconds=rng.randrange(86400 * 300)),
        ]
        if rng.random() < defect_rate:
            kind = rng.randrange(6)
            if kind == 0:
                row[6] = row[6][:-1] + ("0" if row[6][-1] != "0" else "1")  # wrong check character
            elif kind == 1:
                row[7] = "1381234"
            elif kind == 2:
                row[9] = "0000-00-00"
            elif kind == 3:
                row[1] = "未列入目录的证照"
            elif kind == 4:
                row[9] = dt.date(9999, 12, 31)
            else:
                row[3] = "其他"
        rows.append(tuple(row))
    return pd.DataFrame.from_records(rows, columns=list(CANONICAL_COLUMNS))


def per_rule_validator() -> type:
    """The product's Validator with one expectation per derived check instead of one on their
    conjunction: what item 3 of issue 17 asks to weigh."""
    import great_expectations.expectations as gxe
    from licence_reminder.validation import suite

    class PerRule(suite.Validator):
        def __init__(self, **kw: object) -> None:
            super().__init__(**kw)
            kept = [e for e in self._suite.expectations if e.meta["rule"] != suite._DERIVED_RULE]
            self._suite.expectations = []
            for e in kept:
                self._suite.add_expectation(e)
            for k, (rule, column) in enumerate(suite._DERIVED):
                self._suite.add_expectation(
                    gxe.ExpectColumnValuesToBeInSet(
                        column=f"ok__{k}", value_set=[True], meta={"rule": rule, "column": column}
                    )
                )
            self._order = {self._key(e.meta): k for k, e in enumerate(self._suite.expectations)}

        def derive(self, chunk: pd.DataFrame) -> suite.Derived:
            derived = super().derive(chunk)
            frame = derived.gx_frame.drop(columns=[suite._DERIVED_COLUMN])
            for k, key in enumerate(suite._DERIVED):
                frame[f"ok__{k}"] = derived.checks[key]
            derived.gx_frame = frame
            return derived

    return PerRule


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument(
        "--batch", type=int, default=100_000, help="rows per GX run (sync.validate.GX_BATCH_ROWS)"
    )
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--defects", type=float, default=0.02, help="share of defective rows")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    pools = _pools(rng, 20_000)
    chunks = [
        make_chunk(s, min(args.chunk, args.rows - s), rng, pools, args.defects)
        for s in range(0, args.rows, args.chunk)
    ]
    took = time.perf_counter() - t0
    print(f"generated {args.rows:,} rows in {len(chunks)} chunks in {took:.1f} s (not timed below)")

    t0 = time.perf_counter()
    from licence_reminder.validation.suite import Validator, gx_batch_definition

    gx_batch_definition()
    PerRuleValidator = per_rule_validator()
    took = time.perf_counter() - t0
    print(f"import + GX context: {took:.1f} s (once per process, not timed below)")

    names = set(CATALOGUE)
    derive_only = Validator(catalogue_names=names, today=TODAY)
    t0 = time.perf_counter()
    for chunk in chunks:
        derive_only.derive(chunk)
    t_derive = time.perf_counter() - t0

    def timed_batches(validator: Validator) -> float:
        t0 = time.perf_counter()
        per = max(1, args.batch // args.chunk)
        for k in range(0, len(chunks), per):
            validator.validate_many(chunks[k : k + per])
        return time.perf_counter() - t0

    full = Validator(catalogue_names=names, today=TODAY)
    t_full = timed_batches(full)
    per_rule = PerRuleValidator(catalogue_names=names, today=TODAY)
    t_rule = timed_batches(per_rule)
    assert per_rule.totals == full.totals, "the two suites must find the same"

    totals = full.totals
    print(f"(a) rule derivation only : {t_derive:6.2f} s  {args.rows / t_derive:>10,.0f} rows/s")
    print(
        f"(b) full Validator + GX  : {t_full:6.2f} s  {args.rows / t_full:>10,.0f} rows/s "
        f"({len(full._suite.expectations)} expectations)"
    )
    print(
        f"(c) one expectation/rule : {t_rule:6.2f} s  {args.rows / t_rule:>10,.0f} rows/s "
        f"({len(per_rule._suite.expectations)} expectations): {t_rule - t_full:+.2f} s per "
        f"{args.rows:,} rows"
    )
    print(
        f"    rows {totals['rows']:,}  valid {totals['valid']:,}  rejected {totals['rejected']:,}"
    )
    by_rule = sorted((k, v) for k, v in totals.items() if k not in {"rows", "valid", "rejected"})
    for rule, count in by_rule:
        print(f"    {count:>8,}  {rule}")


if __name__ == "__main__":
    main()
