"""Sample department databases for the demo, tests and benchmarks.

Departments of Anyang, each with its own business schema (as real systems have), filled with
deterministic, realistic fake licence records: Chinese names, valid and invalid resident IDs,
credit codes and mobiles, expiry dates spread around ``today`` so a daily run has real work. The
transport bureau keeps its renewal applications in a table of their own (``jt_hzsq``), with no
change time, as its business system does. ``make demo`` registers two (``include/registry``);
``make prod-check`` adds a third, ``wsjkw``, whose department file, catalogue and extract SQL are
in ``demo/registry/``.

    python -m licence_reminder.demo.sources --out-dir var/demo/sources --today 2026-11-24 --rows 400 \
        [--departments scjgj jtysj wsjkw]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEMO_DEPARTMENTS = ("scjgj", "jtysj")
#: registered by make prod-check from demo/registry/ (three departments on two workers)
EXTRA_DEPARTMENTS = ("wsjkw",)
ALL_DEPARTMENTS = DEMO_DEPARTMENTS + EXTRA_DEPARTMENTS
#: department files, catalogues and extract SQL of the extra departments
REGISTRY_DIR = Path(__file__).resolve().parent / "registry"
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英建华志强晓东海燕红梅文博子豪雨欣浩然"
PLACES = ("安阳市", "殷都区", "文峰区", "北关区", "龙安区", "林州市", "安阳县", "汤阴县")
TRADE = (
    "鑫源",
    "华联",
    "永盛",
    "瑞丰",
    "宏达",
    "金穗",
    "百佳",
    "润康",
    "通达",
    "恒信",
    "万家",
    "福运",
)
KIND = {
    "scjgj": ("食品", "医药", "商贸", "餐饮管理"),
    "jtysj": ("物流", "运输", "货运", "汽车运输"),
    "wsjkw": ("诊所", "口腔门诊部", "中医诊所", "医院"),
}
REGIONS = ("410502", "410503", "410505", "410506", "410522", "410523", "410581")
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
LICENCES = {
    "scjgj": ("食品经营许可证", "药品经营许可证"),
    "jtysj": ("道路运输经营许可证", "道路运输从业人员从业资格证"),
    "wsjkw": ("医疗机构执业许可证", "放射诊疗许可证"),
}


@dataclass(frozen=True)
class SeededRow:
    licence_no: str
    native: dict[str, Any]
    #: rule ids this row was built to fail (empty: valid)
    defects: frozenset[str]
    expiry: dt.date | None
    #: the day the holder applied to renew, if they did
    applied: dt.date | None = None

    @property
    def loads(self) -> bool:
        """Whether the row goes into the ledger: it fails no rule of severity REJECT (it may
        fail some of severity WARN, and is then loaded with those warnings)."""
        from licence_reminder.validation.rules import REJECT, severity

        return not any(severity(d) == REJECT for d in self.defects)


def resident_id(rng: random.Random, *, valid: bool = True) -> str:
    from stdnum.cn import ric

    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(40 * 365))
    body = f"{rng.choice(REGIONS)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
    check = ric.calc_check_digit(body + "0")
    if not valid:
        check = "0123456789X"[("0123456789X".index(check) + 1) % 11]
    return body + check


def credit_code(rng: random.Random, *, valid: bool = True) -> str:
    from stdnum.cn import uscc

    body = "9141" + rng.choice(REGIONS)[2:] + "".join(rng.choice(USCC_ALPHABET) for _ in range(9))
    body = body[:17]
    check = uscc.calc_check_digit(body)
    if not valid:
        check = USCC_ALPHABET[(USCC_ALPHABET.index(check) + 1) % 31]
    return body + check


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def company_name(rng: random.Random, dept: str) -> str:
    suffix = "" if dept == "wsjkw" else "有限公司"  # clinics are not companies
    return f"{rng.choice(PLACES)}{rng.choice(TRADE)}{rng.choice(KIND[dept])}{suffix}"


def mobile(rng: random.Random) -> str:
    return f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}"


# Expiry offsets (days from today) every sample guarantees, so a daily run has each case.
GUARANTEED = (30, 30, 30, 7, 7, 7, 20, 15, 12, 3, 2, 1, -5, -40, -200)
# Defects every sample guarantees (rule id, how to break the row). The first four only earn the
# licence a warning (it is loaded and reminded); the others keep the row out of the ledger.
DEFECTS = (
    "mobile_format",
    "resident_id_check",
    "uscc_check",
    "required:holder_name",
    "date_implausible:expiry_date",
    "licence_not_in_catalogue",
    "date_format:expiry_date",
    "duplicate_in_source",
)
#: a warned licence of these defects is due its first reminder on the seeding day, so that a
#: demo day shows it texted (a wrong credit code) or handed to the call staff (a 10-digit mobile)
DUE_TODAY = frozenset({"mobile_format", "uscc_check"})
#: the two valid rows just before the defective ones are one holder's two licences of one kind,
#: expiring the same day, 30 days ahead (two shops): reminded in one message
TWIN_SHOP_OFFSET = 30


def build_rows(
    dept: str, *, today: dt.date, n: int, seed: int = 20241, invalid_ratio: float = 0.08
) -> list[SeededRow]:
    if dept not in ALL_DEPARTMENTS:
        raise ValueError(f"unknown demo department {dept!r}; choose from {ALL_DEPARTMENTS}")
    rng = random.Random(f"{dept}:{seed}")
    rows: list[SeededRow] = []
    updated = dt.datetime.combine(today - dt.timedelta(days=1), dt.time(18, 0))
    n_defects = max(len(DEFECTS), int(n * invalid_ratio)) if n >= 50 else 0
    for i in range(n):
        no = f"{dept.upper()}{today.year % 100:02d}{i:07d}"
        offset = GUARANTEED[i] if i < len(GUARANTEED) else rng.randint(-365, 4 * 365)
        expiry = today + dt.timedelta(days=offset)
        licence_name = LICENCES[dept][i % 2]
        person = dept == "jtysj" and licence_name.endswith("资格证")
        holder = person_name(rng) if person else company_name(rng, dept)
        contact = holder if person else person_name(rng)
        contact_id = resident_id(rng)
        code = contact_id if person else credit_code(rng)
        status = "valid"
        applied: dt.date | None = None
        if i >= len(GUARANTEED):
            roll = rng.random()
            if roll < 0.04:
                status = "revoked"
            elif roll < 0.07:
                status = "cancelled"
            elif roll < 0.12 and 0 < offset < 60:
                applied = today - dt.timedelta(days=rng.randint(1, 20))
        elif i in (16 % len(GUARANTEED), 5):  # some expiring soon have applied to renew
            applied = today - dt.timedelta(days=3)
        defects: frozenset[str] = frozenset()
        fields = {
            "mobile": mobile(rng),
            "contact_id": contact_id,
            "code": code,
            "expiry": expiry,
            "licence_name": licence_name,
            "holder": holder,
            "no": no,
        }
        twin = (
            (n - n_defects - 3) // 2 * 2
        )  # even: the first kind of licence; no defect supersedes it
        if len(GUARANTEED) < twin and i in (twin, twin + 2):
            if i == twin:
                fields["expiry"] = today + dt.timedelta(days=TWIN_SHOP_OFFSET)
                shop = {k: fields[k] for k in ("mobile", "contact_id", "code", "holder", "expiry")}
                shop_contact = contact
            else:  # the same holder's second licence of the kind
                fields.update(shop)
                contact = shop_contact
            status, applied = "valid", None
        defect_at = n - 1 - i  # defective rows are the last ones, deterministic
        if defect_at < n_defects:
            kind = DEFECTS[defect_at % len(DEFECTS)]
            defects = frozenset({kind})
            if kind in DUE_TODAY:
                fields["expiry"] = today + dt.timedelta(days=30)
                status, applied = "valid", None
            if kind == "mobile_format":
                fields["mobile"] = fields["mobile"][:10]  # a digit lost when it was typed in
            elif kind == "resident_id_check":
                fields["contact_id"] = resident_id(rng, valid=False)
                if person:
                    fields["code"] = fields["contact_id"]
            elif kind == "uscc_check":
                if person:  # a person's holder code is an ID: break that instead
                    fields["code"] = fields["contact_id"] = resident_id(rng, valid=False)
                    defects = frozenset({"resident_id_check"})
                else:
                    fields["code"] = credit_code(rng, valid=False)
            elif kind == "date_implausible:expiry_date":
                fields["expiry"] = dt.date(9999, 12, 31)
            elif kind == "licence_not_in_catalogue":
                fields["licence_name"] = "不存在的许可证"
            elif kind == "required:holder_name":
                fields["holder"] = None
            elif kind == "date_format:expiry_date":
                fields["expiry"] = "31/12/2026"
                if dept != "jtysj":  # a date column cannot hold it: the register left it empty
                    defects = frozenset({"required:expiry_date"})
            elif kind == "duplicate_in_source":
                # the first licence entered again with another contact, later: this row is the
                # one loaded, the first one is superseded
                first = rows[defect_at // len(DEFECTS)]  # a licence of its own each time
                fields["no"], fields["expiry"], fields["licence_name"] = (
                    first.licence_no,
                    first.expiry,
                    LICENCES[dept][0],
                )
                status, applied = "valid", None
                rows[defect_at // len(DEFECTS)] = SeededRow(
                    first.licence_no,
                    first.native,
                    frozenset({"duplicate_superseded"}),
                    first.expiry,
                    first.applied,
                )
        native = _native(
            dept,
            fields,
            contact=contact,
            person=person,
            status=status,
            applied=applied,
            issue=today - dt.timedelta(days=1500),
            rng=rng,
            updated=updated + dt.timedelta(hours=1)
            if "duplicate_in_source" in defects
            else updated,
        )
        rows.append(
            SeededRow(
                fields["no"],
                native,
                defects,
                fields["expiry"] if isinstance(fields["expiry"], dt.date) else None,
                applied,
            )
        )
    return rows


def _native(
    dept: str,
    f: dict[str, Any],
    *,
    contact: str,
    person: bool,
    status: str,
    applied: dt.date | None,
    updated: dt.datetime,
    issue: dt.date,
    rng: random.Random,
) -> dict[str, Any]:
    if dept == "scjgj":
        return {
            "xkzbh": f["no"],
            "xkzmc": f["licence_name"],
            "qymc": f["holder"],
            "tyshxydm": f["code"],
            "fzr": contact,
            "fzrsfzh": f["contact_id"],
            "lxdh": f["mobile"],
            "fzrq": issue,
            "yxqz": f["expiry"] if isinstance(f["expiry"], dt.date) else None,
            "zt": {"valid": 1, "cancelled": 2, "revoked": 3}[status],
            "yxsqrq": applied,
            "gxsj": updated,
        }
    if dept == "wsjkw":  # expiry kept as a DATETIME at midnight, status as words
        expiry = f["expiry"]
        return {
            "xkzh": f["no"],
            "xkmc": f["licence_name"],
            "jgmc": f["holder"],
            "tydm": f["code"],
            "fzrxm": contact,
            "fzrzjhm": f["contact_id"],
            "sjhm": f["mobile"],
            "fzrq": issue,
            "yxqz": dt.datetime.combine(expiry, dt.time()) if isinstance(expiry, dt.date) else None,
            "zt": {"valid": "正常", "cancelled": "注销", "revoked": "吊销"}[status],
            "yqsqrq": applied,
            "gxsj": updated,
        }
    expiry = f["expiry"]
    if isinstance(expiry, dt.date):  # messy real data: three spellings of a date
        expiry = rng.choice(
            (
                f"{expiry:%Y-%m-%d}",
                f"{expiry:%Y%m%d}",
                f"{expiry.year}年{expiry.month}月{expiry.day}日",
            )
        )
    return {
        "zsbh": f["no"],
        "zsmc": f["licence_name"],
        "cyr": f["holder"],
        "cylx": "个人" if person else "单位",
        "cyrzjh": f["code"],
        "lxr": contact,
        "lxrsfz": f["contact_id"],
        "lxdh": f["mobile"],
        "fzrq": f"{issue:%Y-%m-%d}",
        "yxqz": expiry,
        "gxsj": updated,
        "sfsc": 0,
    }


def _table(dept: str, metadata: Any) -> Any:
    import sqlalchemy as sa

    text, date, ts = sa.String, sa.Date, sa.DateTime
    kw = {"mysql_charset": "utf8mb4"}
    if dept == "scjgj":
        # the date column is nullable: the register has rows whose expiry was never entered
        return sa.Table(
            "scjg_xkz",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("xkzbh", text(64)),
            sa.Column("xkzmc", text(100)),
            sa.Column("qymc", text(200)),
            sa.Column("tyshxydm", text(32)),
            sa.Column("fzr", text(50)),
            sa.Column("fzrsfzh", text(32)),
            sa.Column("lxdh", text(32)),
            sa.Column("fzrq", date),
            sa.Column("yxqz", date),
            sa.Column("zt", sa.SmallInteger),
            sa.Column("yxsqrq", date),
            sa.Column("gxsj", ts, index=True),
            **kw,
        )
    if dept == "wsjkw":
        return sa.Table(
            "wjw_yljgxk",
            metadata,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("xkzh", text(64)),
            sa.Column("xkmc", text(100)),
            sa.Column("jgmc", text(200)),
            sa.Column("tydm", text(32)),
            sa.Column("fzrxm", text(50)),
            sa.Column("fzrzjhm", text(32)),
            sa.Column("sjhm", text(32)),
            sa.Column("fzrq", date),
            sa.Column("yxqz", ts),
            sa.Column("zt", text(8)),
            sa.Column("yqsqrq", date),
            sa.Column("gxsj", ts, index=True),
            **kw,
        )
    return sa.Table(
        "jt_zs",
        metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("zsbh", text(64)),
        sa.Column("zsmc", text(100)),
        sa.Column("cyr", text(200)),
        sa.Column("cylx", text(10)),
        sa.Column("cyrzjh", text(32)),
        sa.Column("lxr", text(50)),
        sa.Column("lxrsfz", text(32)),
        sa.Column("lxdh", text(32)),
        sa.Column("fzrq", text(20)),
        sa.Column("yxqz", text(20)),
        sa.Column("gxsj", ts, index=True),
        sa.Column("sfsc", sa.SmallInteger),
        **kw,
    )


def _applications_table(metadata: Any) -> Any:
    """The transport bureau's renewal applications (换证申请): no change time of their own."""
    import sqlalchemy as sa

    return sa.Table(
        "jt_hzsq",
        metadata,
        sa.Column("sqid", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("zsbh", sa.String(64)),
        sa.Column("sqrq", sa.Date),
        sa.Column("blzt", sa.String(10)),
        mysql_charset="utf8mb4",
    )


def create_source_schema(engine: Engine, dept: str) -> Any:
    import sqlalchemy as sa

    metadata = sa.MetaData()
    table = _table(dept, metadata)
    if dept == "jtysj":
        _applications_table(metadata)
    metadata.drop_all(engine)
    metadata.create_all(engine)
    return table


def apply_to_renew(engine: Engine, licence_no: str, on: dt.date, *, status: str = "受理") -> None:
    """A renewal application in the transport bureau's applications table (``jt_hzsq``)."""
    import sqlalchemy as sa

    with engine.begin() as conn:
        conn.execute(
            _applications_table(sa.MetaData()).insert(),
            {"zsbh": licence_no, "sqrq": on, "blzt": status},
        )


def seed_source(
    engine: Engine,
    dept: str,
    *,
    today: dt.date,
    n: int,
    seed: int = 20241,
    invalid_ratio: float = 0.08,
) -> list[SeededRow]:
    table = create_source_schema(engine, dept)
    rows = build_rows(dept, today=today, n=n, seed=seed, invalid_ratio=invalid_ratio)
    with engine.begin() as conn:
        for i in range(0, len(rows), 10_000):
            conn.execute(table.insert(), [r.native for r in rows[i : i + 10_000]])
    if dept == "jtysj":
        for r in rows:
            if r.applied is not None:
                apply_to_renew(engine, r.licence_no, r.applied)
    return rows


#: the demo's holders SMS cannot reach, by their licence's place in the sample (both are due their
#: first reminder on the seeding day): a phone the carrier reports as not reached, and a number on
#: the provider's block list
UNREACHABLE = ((0, "undelivered"), (2, "opted_out"))


def simulator_faults(
    depts: list[str], *, today: dt.date, n: int, seed: int = 20241
) -> list[dict[str, Any]]:
    """The SMS simulator's fault rules that make :data:`UNREACHABLE` fail in each department, so
    that a demo day hands the call staff a message to trace besides the mobiles no SMS could go to."""
    rules = []
    for dept in depts:
        rows = build_rows(dept, today=today, n=n, seed=seed)
        for place, fault in UNREACHABLE:
            licence_no = rows[place].licence_no
            # the record the ledger holds for it: a later duplicate supersedes the first entry
            loaded = [
                r
                for r in rows
                if r.licence_no == licence_no and "duplicate_superseded" not in r.defects
            ][-1]
            mobile = loaded.native.get("lxdh") or loaded.native.get("sjhm")
            rules.append({"mobile": mobile, "fault": fault})
    return rules


def main(argv: list[str] | None = None) -> int:
    from licence_reminder.db import engine_from_url

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out-dir", type=Path)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20241)
    parser.add_argument(
        "--departments",
        nargs="+",
        choices=ALL_DEPARTMENTS,
        default=DEMO_DEPARTMENTS,
        metavar="CODE",
        help=f"which of {', '.join(ALL_DEPARTMENTS)} (default: {' '.join(DEMO_DEPARTMENTS)})",
    )
    parser.add_argument(
        "--simulator-faults",
        action="store_true",
        help="print the SMS simulator's fault rules for the demo's unreachable holders (JSON) "
        "instead of seeding",
    )
    args = parser.parse_args(argv)
    if args.simulator_faults:
        print(
            json.dumps(
                {
                    "rules": simulator_faults(
                        args.departments, today=args.today, n=args.rows, seed=args.seed
                    )
                }
            )
        )
        return 0
    if args.out_dir is None:
        parser.error("--out-dir is required to seed the sources")
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for dept in args.departments:
        path = args.out_dir / f"{dept}.db"
        path.unlink(missing_ok=True)
        engine = engine_from_url(f"sqlite:///{path}")
        rows = seed_source(engine, dept, today=args.today, n=args.rows, seed=args.seed)
        engine.dispose()
        bad = sum(1 for r in rows if r.defects)
        print(f"seeded {dept}: {len(rows)} licence records ({bad} deliberately invalid) in {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
