"""The data-quality report a department's DBA opens after a sync, and its task-log summary.

Only masked personal data reaches the report (``masking.mask_record``); the unmasked rows stay
in the protected quarantine table.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from licence_reminder.config import local_now
from licence_reminder.masking import mask_record
from licence_reminder.records import CANONICAL_COLUMNS, SOURCE_KEY

if TYPE_CHECKING:
    from licence_reminder.validation.suite import Rejection, RuleFailure

_TOTAL_KEYS = frozenset({"rows", "valid", "rejected", "warned"})
#: how the totals name the counts of loaded rows warned of a rule (validation.suite.WARNED_PREFIX)
_WARNED = "warn:"

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
        (
            "{zh}不是可识别的日期（可用 2026-12-31、2026/12/31、20261231、2026年12月31日 等），"
            "或是 0000-00-00 这样的“零日期”。"
        ),
        (
            "{en} is not a date we can read (2026-12-31, 2026/12/31, 20261231, 2026年12月31日 ...) "
            "or is a zero date such as 0000-00-00."
        ),
    ),
    "date_implausible": (
        "{zh}早于1950年或晚于今后50年，多为占位值（如 1900-01-01、9999-12-31）或录入错误。",
        (
            "{en} is before 1950 or more than 50 years ahead: usually a placeholder "
            "(1900-01-01, 9999-12-31) or a typing error."
        ),
    ),
    "text_value": (
        "{zh}无法保存：含有乱码（不是 UTF-8 文本，如按二进制读出的 GBK 字段），或超过台账的长度。",
        (
            "{en} cannot be kept: it holds bytes that are not UTF-8 text (a GBK column read as "
            "binary), or is longer than the ledger allows."
        ),
    ),
    "name_digits": (
        "{zh}含有证件号码、手机号码那样的长串数字，不像姓名或名称；台账不使用该值，短信中也不会出现。",
        (
            "{en} holds a long run of digits such as an ID number or a mobile, not a name: the ledger "
            "does not use it, and no message shows it."
        ),
    ),
    "expiry_before_issue": ("期满日期早于发证日期。", "The expiry date is before the issue date."),
    "mobile_format": (
        (
            "联系人手机号码不是11位中国大陆手机号（可带 +86、空格或横线），无法发送到期提醒短信："
            "到提醒日由工作人员电话告知。"
        ),
        (
            "The contact mobile is not an 11-digit mainland mobile number (+86, spaces and dashes are "
            "fine). No reminder SMS can be sent: on its reminder day the licence goes to the call list."
        ),
    ),
    "resident_id_check": (
        (
            "身份证号不符合 GB 11643-1999：应为18位，出生日期真实，最后一位校验码正确。"
            "15位旧号码请更新为18位号码。"
        ),
        (
            "The resident ID number fails GB 11643-1999: 18 characters, a real birth date, and a "
            "matching last (check) character. Replace old 15-digit numbers with the 18-character one."
        ),
    ),
    "uscc_check": (
        "统一社会信用代码不符合 GB 32100-2015：应为18位，最后一位校验码正确。",
        (
            "The unified social credit code fails GB 32100-2015: 18 characters and a matching last "
            "(check) character."
        ),
    ),
    "holder_type_value": (
        "持证主体类型无法识别。可用：单位/企业/法人/org/1，个人/自然人/person/2。",
        "The holder type is not recognised. Use 单位/企业/法人/org/1 or 个人/自然人/person/2.",
    ),
    "holder_type_mismatch": (
        "持证主体类型与证件号码不符：个人填写了统一社会信用代码，或单位填写了身份证号。",
        (
            "The holder type does not match the code: a person with a credit code, or an "
            "organisation with a resident ID number."
        ),
    ),
    "status_value": (
        "证照状态无法识别。可用：有效/正常、吊销、注销/撤销（空白视为有效）。",
        "The licence status is not recognised. Use 有效/正常, 吊销 or 注销/撤销 (blank means valid).",
    ),
    "licence_not_in_catalogue": (
        "证照名称不在本部门的证照目录中。请核对名称，或请管理员把该证照加入目录。",
        (
            "The licence name is not in the department's licence catalogue. Check the name, or ask "
            "for the licence to be added to the catalogue."
        ),
    ),
    "duplicate_licence_no": (
        "同一证照编号在源表中出现了多次，且更新时间相同、没有主键可以区分：哪一条都不接收。请删除重复行。",
        (
            "The source holds the same licence number more than once, changed at the same time and "
            "with no key to tell the rows apart: none is loaded. Remove the duplicates."
        ),
    ),
    "duplicate_superseded": (
        (
            "同一证照编号在源表中出现了多次：台账接收最后更新的一条（更新时间相同时取主键最大的一条），"
            "本行未被接收。请删除重复行。"
        ),
        (
            "The source holds the same licence number more than once: the ledger takes the row changed "
            "last (the highest key among rows changed at the same time), not this one. Remove the "
            "duplicates."
        ),
    ),
    "duplicate_in_source": (
        "同一证照编号在源表中出现了多次：台账接收了最后更新的这一条，其余未接收。请删除重复行。",
        (
            "The source holds this licence number more than once: the ledger took this row, changed "
            "last; the others are not loaded. Remove the duplicates."
        ),
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
    return sorted(
        (
            (k, int(v))
            for k, v in totals.items()
            if k not in _TOTAL_KEYS and not k.startswith(_WARNED) and v
        ),
        key=lambda kv: (-kv[1], kv[0]),
    )


def warned_counts(totals: Mapping[str, int]) -> list[tuple[str, int]]:
    """(rule id, rows loaded with a warning of it) from a Validator's totals, most frequent first."""
    return sorted(
        ((k[len(_WARNED) :], int(v)) for k, v in totals.items() if k.startswith(_WARNED) and v),
        key=lambda kv: (-kv[1], kv[0]),
    )


def severity_label(rule: str) -> tuple[str, str]:
    """(Chinese, English) of what a rule does to a row."""
    from licence_reminder.validation.rules import REJECT, severity

    if severity(rule) == REJECT:
        return "拒收：不进入台账", "not loaded"
    return "接收并提示：进入台账，请更正", "loaded with a warning"


def collect_warning_examples(
    warnings: Iterable[Mapping[str, Any]], per_rule: int = 5
) -> dict[str, list[dict[str, Any]]]:
    """Up to ``per_rule`` examples (licence number masked, the reason) for each warned rule."""
    out: dict[str, list[dict[str, Any]]] = {}
    for w in warnings:
        bucket = out.setdefault(str(w["rule"]), [])
        if len(bucket) < per_rule:
            shown = {
                "licence_no": w["licence_no"],
                "reason": w["message"],
                "columns": [w["column_name"]],
            }
            if w.get("value") is not None and w["column_name"] != "licence_no":
                shown[w["column_name"]] = w["value"]
            bucket.append(mask_record(shown))
    return out


def collect_examples(
    rejections: Iterable[Rejection], per_rule: int = 5
) -> dict[str, list[dict[str, Any]]]:
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
                bucket.append(
                    {"row_number": rej.row_number, "reason": reason, **masked, "columns": columns}
                )
    return out


def summary_lines(
    *,
    department_code: str,
    run_id: str,
    totals: Mapping[str, int],
    department_name: str | None = None,
) -> list[str]:
    """The same summary as the report, for the Airflow task log: counts and rule ids only."""
    rows, valid, rejected, warned = (
        int(totals.get(k, 0)) for k in ("rows", "valid", "rejected", "warned")
    )
    share = f" ({rejected / rows:.1%})" if rows else ""
    who = f"{department_code} {department_name}" if department_name else department_code
    lines = [
        (
            f"data quality {who} run {run_id}: {rows} rows read, {valid} loaded ({warned} with "
            f"warnings), {rejected} not loaded{share}"
        )
    ]
    counts = rule_counts(totals)
    if counts:
        lines.append("not loaded, by rule (a row can fail several):")
        lines.extend(f"  {count:>8}  {rule}" for rule, count in counts)
    if warned_counts(totals):
        lines.append("loaded with warnings, by rule (please fix at the source):")
        lines.extend(f"  {count:>8}  {rule}" for rule, count in warned_counts(totals))
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
.card.warn b{color:#9a6700}
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


def render_report_html(
    *,
    department_code: str,
    department_name: str,
    run_id: str,
    totals: Mapping[str, int],
    examples: Mapping[str, list[dict[str, Any]]],
    warning_examples: Mapping[str, list[dict[str, Any]]] | None = None,
) -> str:
    """A self-contained page (no external assets): what was not loaded and what was loaded but
    should be fixed, by rule, with masked examples; and what each rule does to a row."""
    from licence_reminder.validation.rules import all_rules

    rows, valid, rejected, warned = (
        int(totals.get(k, 0)) for k in ("rows", "valid", "rejected", "warned")
    )
    share = f"{rejected / rows:.1%}" if rows else "0%"
    generated = local_now().strftime("%Y-%m-%d %H:%M")
    counts, warned_by_rule = rule_counts(totals), warned_counts(totals)
    title = f"数据质量报告 Data-quality report · {department_name} ({department_code})"

    parts = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>{_e(title)}</h1>",
        (
            f'<p class="muted">运行 Run: <code>{_e(run_id)}</code> · '
            f"生成时间 Generated: {_e(generated)} (北京时间 CST)</p>"
        ),
        '<div class="cards">',
        f'<div class="card"><span>读取行数 Rows read</span><b>{rows}</b></div>',
        f'<div class="card ok"><span>进入台账 Loaded</span><b>{valid}</b></div>',
        f'<div class="card warn"><span>已接收，请更正 Loaded, please fix</span><b>{warned}</b></div>',
        (
            f'<div class="card bad"><span>未接收 Not loaded</span><b>{rejected}</b>'
            f'<span class="muted">{share}</span></div>'
        ),
        "</div>",
    ]
    if not counts and not warned_by_rule:
        parts.append("<p>全部数据通过校验。All rows passed validation.</p>")
    if counts:
        parts += [
            "<h2>未接收 Not loaded, by rule</h2>",
            (
                '<p class="muted">这些行无法生成提醒（缺少证照编号或期满日期、日期无法识别、不在目录中等），'
                "不会进入台账：新证照不会被提醒，到期后列入“未提醒即过期”报告；台账中已有的证照保留上次接收的内容"
                "（吊销、注销状态仍会生效）。一行可能同时违反多条规则。请在源系统中更正。"
                "These rows cannot become a reminder (no licence number or expiry date, an unreadable "
                "date, a licence not in the catalogue, …) and stay out of the ledger: a new licence gets "
                "no reminder and shows in the lapsed report when it expires; a licence the ledger holds "
                "keeps the values last loaded (a revocation still counts). A row can fail several "
                "rules. Please correct them in the source system.</p>"
            ),
        ]
        parts += _rule_table(counts)
        parts += _examples_html(counts, examples, department_code, "quarantine")
    if warned_by_rule:
        parts += [
            "<h2>已接收，请更正 Loaded, please fix, by rule</h2>",
            (
                '<p class="muted">这些证照已进入台账并会被提醒；出错的值不被使用（例如没有可用手机号码的证照到提醒日转为电话告知）。'
                "源系统更正后，提示自动消除。These licences are in the ledger and are reminded; the "
                "value that failed is not used (a licence without a usable mobile goes to the call list "
                "on its reminder day). Each warning clears when the source is fixed.</p>"
            ),
        ]
        parts += _rule_table(warned_by_rule)
        parts += _examples_html(warned_by_rule, warning_examples or {}, department_code, "warnings")
    parts += [
        "<details><summary>规则一览 Every rule and what it does to a row</summary>",
        (
            '<div class="scroll"><table><thead><tr><th>规则 Rule</th><th>处理 Severity</th>'
            "<th>说明 What it means</th></tr></thead><tbody>"
        ),
    ]
    for rule in all_rules():
        zh, en = explain_rule(rule)
        szh, sen = severity_label(rule)
        parts.append(
            f'<tr><td><code>{_e(rule)}</code></td><td>{_e(szh)}<br><span class="muted">'
            f'{_e(sen)}</span></td><td>{_e(zh)}<br><span class="muted">{_e(en)}</span></td></tr>'
        )
    parts.append("</tbody></table></div></details>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _rule_table(counts: list[tuple[str, int]]) -> list[str]:
    parts = [
        (
            '<div class="scroll"><table><thead><tr><th>规则 Rule</th><th>行数 Rows</th>'
            "<th>说明 What it means</th></tr></thead><tbody>"
        )
    ]
    for rule, count in counts:
        zh, en = explain_rule(rule)
        parts.append(
            f'<tr><td><code>{_e(rule)}</code></td><td class="n">{count}</td>'
            f'<td>{_e(zh)}<br><span class="muted">{_e(en)}</span></td></tr>'
        )
    parts.append("</tbody></table></div>")
    return parts


def _examples_html(
    counts: list[tuple[str, int]],
    examples: Mapping[str, list[dict[str, Any]]],
    department_code: str,
    command: str,
) -> list[str]:
    parts = ["<h3>示例（已脱敏） Examples (masked)</h3>"]
    for rule, count in counts:
        shown = list(examples.get(rule, []))[:5]
        zh, en = explain_rule(rule)
        part = (
            f" · 显示 {len(shown)} / {count} 行 {len(shown)} of {count} rows shown"
            if 0 < len(shown) < count
            else ""
        )
        parts.append(
            f"<details><summary><code>{_e(rule)}</code> · {_e(zh)}{_e(part)}</summary>"
            f'<p class="muted">{_e(en)}</p>'
        )
        if part:
            parts.append(
                f'<p class="muted">全部 Every row: <code>python -m licence_reminder.cli {command} '
                f"--dept {_e(department_code)} --rule {_e(rule)} --limit {count}</code></p>"
            )
        if not shown:
            parts.append('<p class="muted">无示例 No examples kept.</p>')
        for ex in shown:
            parts.append(_example_html(ex))
        parts.append("</details>")
    return parts


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
    body = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in items if v not in (None, ""))
    return f'<div class="ex"><dl>{body}</dl></div>'
