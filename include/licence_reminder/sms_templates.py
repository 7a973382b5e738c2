"""One SMS template per catalogue entry and stage: the text a provider approves, and its variables.

What is the same for every holder of a catalogue entry (the licence's name, the link to the
entry's published page, which carries the hall, materials and consequences of attachment 3, the
service phone, the consequences in a few words) is the template's constant text; the variables are
only what changes per holder (names, dates, days, the licence number's tail), each within the
provider's documented cap (docs/adr/0103-sms-variable-caps.md). The wording lives in
``include/templates/sms_stage{1,2}.txt.j2``; ``v("name")`` there marks a variable.

The same template gives the provider's text to approve (``${name}`` or ``{1}``) and the text a
holder receives (variables filled), so the audited body is the delivered one by construction.
A template is named ``<department>.<entry code>.stage<n>``; a gateway connection maps that name
to the provider's approved template code (``extra.templates``). Another channel can reuse the
names and variables with a wording of its own.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from licence_reminder.config import TEMPLATES_DIR
from licence_reminder.registry import CatalogueEntry

SINGLE_SMS = 70
MULTIPART_SMS = 67
MAX_SMS_LENGTH = 500
#: two billed segments: what a template aims for
TWO_SEGMENTS = 2 * MULTIPART_SMS
#: characters the 【signature】 is assumed to take when a template's optional parts are chosen:
#: the choice must not depend on a gateway, or the approved text would differ from the sent one
SIGNATURE_BUDGET = 10
#: the optional parts of a template, in the order they are kept while the message fits
OPTIONAL_PARTS = ("phone", "days")
#: the licence numbers one message lists at most (the rest go in another message)
MAX_LICENCES_PER_MESSAGE = 5


@dataclass(frozen=True)
class Variable:
    name: str
    meaning: str
    #: the variable attribute to declare at the providers that ask for one
    attribute: str
    #: the longest value the product itself makes (None: the data decides)
    max_length: int | None
    #: the length a message is budgeted with
    typical: int
    example: str


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "contact",
            "the contact person greeted (用户 when unknown)",
            "name / 姓名",
            None,
            3,
            "刘伟",
        ),
        Variable(
            "holder",
            "the licence holder (证照持有单位或个人; 您 when it is the contact or unknown)",
            "other / 其他 (organisation or person name)",
            None,
            12,
            "安阳市永盛食品有限公司",
        ),
        Variable(
            "licence_no",
            "the licence number's last characters; several joined by 、",
            "other number / 其他号码",
            None,
            6,
            "012345",
        ),
        Variable("expiry", "the expiry date", "time / 时间", 11, 10, "2027年1月6日"),
        Variable("days", "days from the sending day to the expiry", "number / 数字", 3, 2, "30"),
        Variable(
            "apply_by",
            "the last day to apply (2026年11月20日前), 今日内 on that day, 尽快 after it",
            "other / 其他",
            12,
            11,
            "2026年11月20日前",
        ),
    )
}


@dataclass(frozen=True)
class ProviderRules:
    """What a provider takes in a template, as documented (ADR 0103 gives the sources)."""

    name: str
    #: the longest value of any one variable (None: no per-variable cap)
    variable_cap: int | None
    #: ``dollar``: ``${name}``; ``numbered``: ``{1}``, ``{2}`` … in order of appearance
    placeholders: str
    note: str


PROVIDERS: dict[str, ProviderRules] = {
    p.name: p
    for p in (
        ProviderRules(
            "aliyun",
            35,
            "dollar",
            "notification template; each variable 1-35 characters, a declared attribute per "
            "variable, links only in the template text, at most 2 phone numbers",
        ),
        ProviderRules(
            "tencent",
            None,
            "numbered",
            "ordinary (notification) template of an enterprise/government account: no cap per "
            "variable (personal accounts: 12, set extra.max_param_length), links only in the "
            "template text",
        ),
        ProviderRules(
            "generic",
            None,
            "dollar",
            "government platform: caps as its connection declares (extra.max_param_length, "
            "extra.variable_caps)",
        ),
    )
}


def variable_caps(
    provider: str, max_param_length: int | None = None, overrides: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Each variable's cap at a gateway: the provider's documented one, the connection's
    ``max_param_length`` and its ``variable_caps``, whichever is smallest."""
    caps: dict[str, int] = {}
    rules = PROVIDERS.get(provider)
    for name in VARIABLES:
        found = [
            c
            for c in (
                rules.variable_cap if rules else None,
                max_param_length,
                (overrides or {}).get(name),
            )
            if c
        ]
        if found:
            caps[name] = min(found)
    return caps


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class SmsTemplate:
    key: str
    stage: int
    parts: tuple[str | Var, ...]
    #: the optional parts kept (OPTIONAL_PARTS)
    options: frozenset[str] = field(default_factory=frozenset)

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.parts if isinstance(p, Var))

    @property
    def fixed_length(self) -> int:
        return sum(len(p) for p in self.parts if isinstance(p, str))

    def text(self, placeholders: str = "dollar") -> str:
        """The text to submit for approval, variables as the provider writes them."""
        numbers = {name: i for i, name in enumerate(self.variables, 1)}
        return "".join(
            p
            if isinstance(p, str)
            else (f"{{{numbers[p.name]}}}" if placeholders == "numbered" else f"${{{p.name}}}")
            for p in self.parts
        )

    def fill(self, params: Mapping[str, str]) -> str:
        """The text a holder receives (without the 【signature】 the provider adds)."""
        return "".join(p if isinstance(p, str) else params[p.name] for p in self.parts)

    def length(self, lengths: Mapping[str, int], sign_length: int = SIGNATURE_BUDGET) -> int:
        return sign_length + self.fixed_length + sum(lengths[v] for v in self.variables)

    def typical_length(self, licence_no_digits: int | None = None) -> int:
        lengths = {n: v.typical for n, v in VARIABLES.items()}
        if licence_no_digits:
            lengths["licence_no"] = licence_no_digits
        return self.length(lengths)

    def problems(self) -> list[str]:
        """What no provider approves: adjacent variables, a text of variables only, 【】."""
        out = []
        for a, b in zip(self.parts, self.parts[1:], strict=False):
            if isinstance(a, Var) and isinstance(b, Var):
                out.append(f"variables {a.name} and {b.name} are adjacent")
        if "【" in self.text() or "】" in self.text():
            out.append("the text contains 【】: the provider adds the signature")
        if len(set(self.variables)) != len(self.variables):
            out.append("a variable appears twice")
        return out


def template_key(dept_code: str, entry_code: str, stage: int) -> str:
    return f"{dept_code}.{entry_code}.stage{stage}"


def entry_link(dept_code: str, entry: CatalogueEntry, catalogue_url: str | None) -> str | None:
    """Where the SMS sends the holder for the full attachment-3 content: the entry's own link,
    else its page published under ``catalogue_url`` (LR_CATALOGUE_URL), else the online service."""
    if entry.page_url:
        return entry.page_url
    if catalogue_url:
        return f"{catalogue_url.rstrip('/')}/{dept_code}/{entry.entry_code}.html"
    return entry.online_url


_MARK = "\x00"


@functools.cache
def _environment():  # type: ignore[no-untyped-def]
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )


def _parts(stage: int, context: dict[str, object]) -> tuple[str | Var, ...]:
    text = (
        _environment()
        .get_template(f"sms_stage{stage}.txt.j2")
        .render(v=lambda name: f"{_MARK}{name}{_MARK}", **context)
        .strip()
    )
    if "\n" in text:
        raise ValueError(f"sms_stage{stage}.txt.j2 renders more than one line")
    pieces = text.split(_MARK)
    return tuple(Var(p) if i % 2 else p for i, p in enumerate(pieces) if p or i % 2)


def _sentence(text: str) -> str:
    text = text.strip()
    return text if re.search(r"[。！!？?]$", text) else f"{text}。"


def build(
    dept_code: str, entry: CatalogueEntry, stage: int, *, catalogue_url: str | None = None
) -> SmsTemplate:
    """The entry's template for ``stage``: its optional parts kept, in order, while a message
    with typical values fits two segments."""
    context = {
        "licence_name": entry.licence_name,
        "digits": entry.licence_no_digits,
        "link": entry_link(dept_code, entry, catalogue_url),
        "hall": entry.service_hall or "",
        "phone": entry.service_phone,
        "consequences": _sentence(entry.sms_consequences or entry.lapse_consequences),
    }
    key = template_key(dept_code, entry.entry_code, stage)
    kept: frozenset[str] = frozenset()
    parts = _parts(stage, {**context, "opt": kept})
    for option in OPTIONAL_PARTS:
        wider = kept | {option}
        candidate = SmsTemplate(key, stage, _parts(stage, {**context, "opt": wider}), wider)
        if candidate.typical_length(entry.licence_no_digits) <= TWO_SEGMENTS:
            kept, parts = wider, candidate.parts
    unknown = [p.name for p in parts if isinstance(p, Var) and p.name not in VARIABLES]
    if unknown:
        raise ValueError(f"sms_stage{stage}.txt.j2 uses unknown variable(s) {unknown}")
    return SmsTemplate(key, stage, parts, kept)


def sms_length(body: str, sign_name: str) -> int:
    """Characters billed: the 【signature】 the provider adds plus the text, each counting one."""
    return len(f"【{sign_name}】") + len(body)


def sms_segments(length: int) -> int:
    return 1 if length <= SINGLE_SMS else -(-length // MULTIPART_SMS)
