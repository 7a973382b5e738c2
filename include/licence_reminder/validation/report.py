"""The data-quality report a department's DBA opens after a sync, and its task-log summary.

Only masked personal data reaches the report (``masking.mask_record``); the unmasked rows stay
in the protected quarantine table.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from licence_reminder.masking import mask_record
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY

if TYPE_CHECKING:
    from licence_reminder.validation.suite import Rejection, RuleFailure

_TOTAL_KEYS = frozenset({"rows", "valid", "rejected"})

#: Column labels for the DBA: (Chinese, English).
COLUMN_LABELS: dict[str, tuple[str, str]] = {
    "licence_no": ("证照编号", "licence number"),
    "licence_name": ("证照名称", "licence name"),
    "holder_name": ("持证单位（个人）", "holder name"),
    "holder_type": ("持证主体类型", "holder type"),
    "holder_code": ("统一社会信用代码/身份证号", "holder's credit code / ID number"),
    "contact_name": ("联系人", "contact name"),
    "contact_id_no": ("联系人身份证号", "contact's ID number"),
    "contact_mobile": ("联系人手机号码", "contact mobile"),
    "issue_date": ("发证日期", "issue date"),
    "expiry_date": ("期满日期", "expiry date"),
    "status": ("证照状态", "licence status"),
    "renewal_applied_on": ("延续申请日期", "renewal application date"),
    "source_updated_at": ("更新时间", "last-updated time"),
}

_RULES: dict[str, tuple[str, str]] = {
    "required": ("{zh}为空。此项必填。", "{en} is empty. It is required."),
    "date_format": (
        "{zh}不是可识别的日期（可用 2026-12-31、2026/12/31、20261231、2026年12月31日 等），"
        "或是 0000-00-00 这样的“零日期”。",
        "{en} is not a date we can read (2026-12-31, 2026/12/31, 20261231, 2026年12月31日 ...) "
        "or is a zero date such as 0000-00-00.",
    ),
    "date_implausible": (
        "{zh}早于1950年或晚于今后50年，多为占位值（如 1900-01-01、9999-12-31）或录入错误。",
        "{en} is before 1950 or more than 50 years ahead: usually a placeholder "
        "(1900-01-01, 9999-12-31) or a typing error.",
    ),
    "text_value": (
        "{zh}无法保存：含有乱码（不是 UTF-8 文本，如按二进制读出的 GBK 字段），超过台账的长度，"
        "或（姓名）含有证件号码、手机号码那样的长串数字。",
        "{en} cannot be kept: it holds bytes that are not UTF-8 text (a GBK column read as "
        "binary), is longer than the ledger allows, or (a name) holds a long run of digits such "
        "as an ID number or a mobile.",
    ),
    "expiry_before_issue": ("期满日期早于发证日期。", "The expiry date is before the issue date."),
    "mobile_format": (
        "联系人手机号码不是11位中国大陆手机号（可带 +86、空格或横线），无法发送到期提醒短信。",
        "The contact mobile is not an 11-digit mainland mobile number (+86, spaces and dashes are "
        "fine). No reminder SMS can be sent.",
    ),
    "resident_id_check": (
        "身份证号不符合 GB 11643-1999：应为18位，出生日期真实，最后一位校验码正确。"
        "15位旧号码请更新为18位号码。",
        "The resident ID number fails GB 11643-1999: 18 characters, a real birth date, and a "
        "matching last (check) character. Replace old 15-digit numbers with the 18-character one.",
    ),
    "uscc_check": (
        "统一社会信用代码不符合 GB 32100-2015：应为18位，最后一位校验码正确。",
        "The unified social credit code fails GB 32100-2015: 18 characters and a matching last "
        "(check) character.",
    ),
    "holder_type_value": (
        "持证主体类型无法识别。可用：单位/企业/法人/org/1，个人/自然人/person/2。",
        "The holder type is not recognised. Use 单位/企业/法人/org/1 or 个人/自然人/person/2.",
    ),
    "holder_type_mismatch": (
        "持证主体类型与证件号码不符：个人填写了统一社会信用代码，或单位填写了身份证号。",
        "The holder type does not match the code: a person with a credit code, or an "
        "organisation with a resident ID number.",
    ),
    "status_value": (
        "证照状态无法识别。可用：有效/正常、吊销、注销/撤销（空白视为有效）。",
        "The licence status is not recognised. Use 有效/正常, 吊销 or 注销/撤销 (blank means valid).",
    ),
    "licence_not_in_catalogue": (
        "证照名称不在本部门的证照目录中。请核对名称，或请管理员把该证照加入目录。",
        "The licence name is not in the department's licence catalogue. Check the name, or ask "
        "for the licence to be added to the catalogue.",
    ),
    "duplicate_licence_no": (
        "同一证照编号在源表中出现了多次。全量同步接收第一条、拒收其余；增量同步拒收该编号的所有行，"
        "台账保持上次全量同步的结果。请删除重复行。",
        "The source holds the same licence number more than once. A full run accepts the first "
        "row and rejects the others; a run that reads only changed rows rejects every row of the "
        "number and leaves the ledger as the last full run loaded it. Remove the duplicates.",
    ),
}


def explain_rule(rule: str) -> tuple[str, str]:
    """Plain-language (Chinese, English) explanation of a rule id."""
    base, _, column = rule.partition(":")
    zh_col, en_col = COLUMN_LABELS.get(column, (column, column))
    zh, en = _RULES.get(base, ("未知规则 {zh}", "Unknown rule {en}"))
    return zh.format(zh=zh_col), en.format(en=en_col[:1].upper() + en_col[1:] if en_col else en_col)


def rule_counts(totals: Mapping[str, int]) -> list[tuple[str, int]]:
    """(rule id, rejected rows) from a Validator's totals, most frequent first."""
    return sorted(((k, int(v)) for k, v in totals.items() if k not in _TOTAL_KEYS and v),
                  key=lambda kv: (-kv[1], kv[0]))


def collect_examples(rejections: Iterable[Rejection],
                     per_rule: int = 5) -> dict[str, list[dict[str, Any]]]:
    """Up to ``per_rule`` masked example rows for each rule id, in extract order."""
    out: dict[str, list[dict[str, Any]]] = {}
    for rej in rejections:
        masked = mask_record(dict(rej.raw))
        by_rule: dict[str, list[RuleFailure]] = {}
        for f in rej.failures:
            by_rule.setdefault(f.rule, []).append(f)
        for rule, failures in by_rule.items():
            bucket = out.setdefault(rule, [])
            if len(bucket) < per_rule:
                reason = "; ".join(f.message for f in failures)
                columns = list(dict.fromkeys(f.column for f in failures if f.column in masked))
                bucket.append({"row_number": rej.row_number, "reason": reason, **masked,
                               "columns": columns})
    return out


def summary_lines(*, department_code: str, run_id: str, totals: Mapping[str, int],
                  department_name: str | None = None) -> list[str]:
    """The same summary as the report, for the Airflow task log: counts and rule ids only."""
    rows, valid, rejected = (int(totals.get(k, 0)) for k in ("rows", "valid", "rejected"))
    share = f" ({rejected / rows:.1%})" if rows else ""
    who = f"{department_code} {department_name}" if department_name else department_code
    lines = [f"data quality {who} run {run_id}: {rows} rows read, {valid} valid, "
             f"{rejected} rejected{share}"]
    counts = rule_counts(totals)
    if counts:
        lines.append("rejected rows by rule (a row can fail several):")
        lines.extend(f"  {count:>8}  {rule}" for rule, count in counts)
    return lines


_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--bad:#b42318;--ok:#1a7f37}
*{box-sizing:border-box}
body{margin:0;padding:12px;font:15px/1.5 -apple-system,"PingFang SC","Microsoft YaHei",
"Noto Sans CJK SC",sans-serif;color:var(--fg);background:#fff}
main{max-width:960px;margin:0 auto}
h1{font-size:1.3em;margin:.2em 0}h2{font-size:1.1em;margin:1.4em 0 .4em}
.muted{color:var(--muted);font-size:.9em}
.cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}
.card{flex:1 1 140px;border:1px solid var(--line);border-radius:8px;padding:10px;
background:var(--bg)}
.card b{display:block;font-size:1.6em}.card.bad b{color:var(--bad)}.card.ok b{color:var(--ok)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:.92em}
th,td{border-bottom:1px solid var(--line);padding:6px 8px;text-align:left;vertical-align:top}
th{background:var(--bg)}td.n{text-align:right;white-space:nowrap}
code{font-size:.9em;word-break:break-all}
details{border:1px solid var(--line);border-radius:8px;margin:8px 0;padding:6px 10px}
summary{cursor:pointer;font-weight:600}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:8px 0 12px;font-size:.9em}
dt{color:var(--muted)}dd{margin:0;word-break:break-all}
.ex{border-top:1px dashed var(--line);padding-top:6px}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def render_report_html(*, department_code: str, department_name: str, run_id: str,
                       totals: Mapping[str, int],
                       examples: Mapping[str, list[dict[str, Any]]]) -> str:
    """A self-contained page (no external assets) with counts by rule and masked examples."""
    rows, valid, rejected = (int(totals.get(k, 0)) for k in ("rows", "valid", "rejected"))
    share = f"{rejected / rows:.1%}" if rows else "0%"
    generated = dt.datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m-%d %H:%M")
    counts = rule_counts(totals)
    title = f"数据质量报告 Data-quality report · {department_name} ({department_code})"

    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="muted">运行 Run: <code>{_e(run_id)}</code> · '
        f"生成时间 Generated: {_e(generated)} (北京时间 CST)</p>",
        '<div class="cards">',
        f'<div class="card"><span>读取行数 Rows read</span><b>{rows}</b></div>',
        f'<div class="card ok"><span>有效 Valid</span><b>{valid}</b></div>',
        f'<div class="card bad"><span>拒收 Rejected</span><b>{rejected}</b>'
        f'<span class="muted">{share}</span></div>',
        "</div>",
    ]
    if not counts:
        parts.append("<p>全部数据通过校验。All rows passed validation.</p>")
    else:
        parts += [
            "<h2>按规则统计 Rejected rows by rule</h2>",
            '<p class="muted">一行可能同时违反多条规则。A row can fail several rules. '
            "被拒收的数据不会进入台账：新证照不会被提醒；台账中已有的证照保留上次接收的内容"
            "（吊销、注销状态仍会生效）。请在源系统中更正。"
            "Rejected rows are not merged into the ledger: a new licence gets no reminder; a "
            "licence the ledger holds keeps the values last loaded (a revocation still counts). "
            "Please correct them in the source system.</p>",
            '<div class="scroll"><table><thead><tr><th>规则 Rule</th><th>行数 Rows</th>'
            "<th>说明 What it means</th></tr></thead><tbody>",
        ]
        for rule, count in counts:
            zh, en = explain_rule(rule)
            parts.append(f'<tr><td><code>{_e(rule)}</code></td><td class="n">{count}</td>'
                         f"<td>{_e(zh)}<br><span class=\"muted\">{_e(en)}</span></td></tr>")
        parts.append("</tbody></table></div>")
        parts.append("<h2>示例（已脱敏） Examples (masked)</h2>")
        for rule, count in counts:
            shown = list(examples.get(rule, []))[:5]
            zh, en = explain_rule(rule)
            part = (f" · 显示 {len(shown)} / {count} 行 {len(shown)} of {count} rows shown"
                    if 0 < len(shown) < count else "")
            parts.append(f"<details><summary><code>{_e(rule)}</code> · {_e(zh)}{_e(part)}</summary>"
                         f'<p class="muted">{_e(en)}</p>')
            if part:
                parts.append('<p class="muted">全部被拒收的行 Every rejected row: <code>python -m '
                             f"licence_reminder.cli quarantine --dept {_e(department_code)} --rule "
                             f"{_e(rule)} --limit {count}</code></p>")
            if not shown:
                parts.append('<p class="muted">无示例 No examples kept.</p>')
            for ex in shown:
                parts.append(_example_html(ex))
            parts.append("</details>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _example_html(example: Mapping[str, Any]) -> str:
    # masked again: masking is idempotent, and the page must hold no unmasked personal data
    masked = mask_record(dict(example))
    items = [("行号 Row", masked.get("row_number")), ("原因 Reason", masked.get("reason"))]
    if masked.get(SOURCE_KEY):
        items.insert(1, ("源表主键 Source key", masked[SOURCE_KEY]))
    for col in CANONICAL_COLUMNS:
        value = masked.get(col)
        if value not in (None, ""):
            zh, en = COLUMN_LABELS[col]
            items.append((f"{zh} {en}", value))
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items)
    return f'<div class="ex"><dl>{body}</dl></div>'
