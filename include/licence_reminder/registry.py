"""Department source connectors and reminder catalogues: one YAML file each, validated.

Read at DAG-parse time, so this module imports only PyYAML, pydantic and croniter (all already
loaded by Airflow itself). Every error names the file, the field and what is wrong.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from licence_reminder.channels.policy import DEFAULT as DEFAULT_CHANNELS
from licence_reminder.channels.policy import ChannelPolicy
from licence_reminder.config import INCLUDE_DIR
from licence_reminder.records import CANONICAL_COLUMNS

_CODE = r"^[a-z][a-z0-9_]{1,31}$"


class RegistryError(ValueError):
    """A registry or catalogue file that cannot be used, with every problem spelled out."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


class RegistryFilesInvalid(ValueError):
    """Every department file of the registry that does not validate, one line each."""

    def __init__(self, errors: list[RegistryError]) -> None:
        self.errors = errors
        lines = "\n".join(f"- {e}" for e in errors)
        super().__init__(
            f"{len(errors)} department file(s) do not validate; their sync DAGs "
            f"are tagged config-error and do not run:\n{lines}"
        )


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Contact(_Strict):
    name: str = Field(min_length=1)
    phone: str | None = None
    email: str | None = None


#: Airflow's schedule presets that make sense for a sync
CRON_PRESETS = frozenset({"@hourly", "@daily", "@weekly", "@monthly", "@yearly"})


class SyncSettings(_Strict):
    mode: Literal["incremental", "full"] = "incremental"
    #: canonical column compared with the stored watermark in incremental mode
    watermark_column: str = "source_updated_at"
    #: cron (Asia/Shanghai) of the daily sync
    schedule: str = "0 2 * * *"
    #: ISO weekday (1 = Monday … 7 = Sunday) on which the daily run is a full reconciliation
    full_reconcile_weekday: Annotated[int, Field(ge=1, le=7)] | None = 7
    #: an incremental run reads again the rows stamped up to this long before the last committed
    #: run began to read (by the source's clock): a source transaction that stamped its rows before
    #: then but committed after (or stamped them in the same second as the last row read) is not
    #: missed. Rows read again that did not change are compared and not written.
    watermark_lookback_seconds: Annotated[int, Field(ge=0, le=86_400)] = 600
    chunk_size: Annotated[int, Field(ge=100, le=500_000)] = 50_000
    timeout_seconds: Annotated[int, Field(ge=10, le=86_400)] = 1800
    #: a key column the extract SQL returns (typically the source table's primary key, e.g.
    #: ``x.id AS source_id``): each row's value rides along, so that a rejected row shows it, and
    #: among rows of one licence number changed at the same time the highest key is loaded.
    split_column: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
    #: no longer used: a run reads its extract through one reader and validates it in one
    #: process (docs/adr/0005-reader.md); accepted so that existing files stay valid
    workers: Annotated[int, Field(ge=1, le=16)] = 1
    #: a full run that would mark more than this share of the department's active licences as
    #: gone from the source (and more than 10) fails instead, changing nothing: an emptied table,
    #: a wrong WHERE or the wrong database look just like a register whose licences all went
    max_vanished_share: Annotated[float, Field(ge=0, le=1)] = 0.5

    @field_validator("schedule")
    @classmethod
    def _cron(cls, v: str) -> str:
        # checked here, not left to Airflow: its error would stop the file that builds every
        # department's DAG, naming none of them
        from croniter import croniter

        v = v.strip()
        if v in CRON_PRESETS:
            return v
        fields = v.split()
        problem = "" if len(fields) == 5 else f"it has {len(fields)} field(s)"
        if not problem:
            try:
                croniter(v)
            except (ValueError, KeyError) as exc:  # croniter's errors are ValueErrors
                problem = str(exc)
        if problem:
            raise ValueError(
                f"{v!r} is not a cron expression of 5 fields (minute hour day-of-month month "
                f"day-of-week, e.g. '0 2 * * *' for 02:00 daily) nor one of {sorted(CRON_PRESETS)}: "
                f"{problem}"
            )
        return v

    @field_validator("watermark_column")
    @classmethod
    def _known_column(cls, v: str) -> str:
        if v not in CANONICAL_COLUMNS:
            raise ValueError(
                f"must be one of the canonical columns {list(CANONICAL_COLUMNS)}, got {v!r}"
            )
        return v


class Renewals(_Strict):
    """Renewal applications a business system keeps beside the licence table (an applications
    table with no change time, a yes/no flag): one SELECT returning ``licence_no`` and
    ``applied_on`` (the application date; NULL when only a flag says so), read in full every run,
    so that a run reading only changed licence rows still sees a new application."""

    sql: str | None = None
    sql_file: str | None = None

    @model_validator(mode="after")
    def _one_sql(self) -> Renewals:
        if bool(self.sql) == bool(self.sql_file):
            raise ValueError("give exactly one of sql or sql_file")
        return self


class Source(_Strict):
    conn_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    extract_sql: str | None = None
    extract_sql_file: str | None = None
    #: canonical column -> the column the extract SQL returns, for columns not already aliased
    columns: dict[str, str] = Field(default_factory=dict)
    #: canonical column -> constant value, for what the source does not store (e.g. holder_type)
    constants: dict[str, str] = Field(default_factory=dict)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    #: renewal applications kept apart from the licence rows (docs/connectors.md)
    renewals: Renewals | None = None

    @model_validator(mode="after")
    def _one_sql(self) -> Source:
        if bool(self.extract_sql) == bool(self.extract_sql_file):
            raise ValueError("give exactly one of extract_sql or extract_sql_file")
        return self

    @field_validator("columns", "constants")
    @classmethod
    def _canonical_keys(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(CANONICAL_COLUMNS))
        if unknown:
            raise ValueError(
                f"unknown canonical column(s) {unknown}; allowed: {list(CANONICAL_COLUMNS)}"
            )
        return v


class Department(_Strict):
    code: str = Field(pattern=_CODE)
    name: str = Field(min_length=1)
    region_code: str = Field(pattern=r"^\d{6}$")
    contact: Contact
    source: Source
    #: Airflow connection of this department's SMS gateway; None uses the city-wide one
    gateway_conn_id: str | None = None
    tags: list[str] = Field(default_factory=list)

    @property
    def dag_id(self) -> str:
        return f"sync_{self.code}"

    def extract_sql_text(self, base: Path = INCLUDE_DIR) -> str:
        if self.source.extract_sql:
            return self.source.extract_sql
        assert self.source.extract_sql_file is not None
        return _read_text(base / self.source.extract_sql_file)

    def renewals_sql_text(self, base: Path = INCLUDE_DIR) -> str | None:
        """The renewal applications' SELECT, or None when the extract itself gives them."""
        renewals = self.source.renewals
        if renewals is None:
            return None
        if renewals.sql:
            return renewals.sql
        assert renewals.sql_file is not None
        return _read_text(base / renewals.sql_file)


class Lead(_Strict):
    """A reminder's lead: so many calendar or Chinese working days before the expiry date, or
    before the last day to apply for renewal (``before: deadline``)."""

    days: Annotated[int, Field(ge=0, le=365)] | None = None
    #: working days under the State Council's holiday schedule (make-up working days count)
    working_days: Annotated[int, Field(ge=0, le=120)] | None = None
    before: Literal["expiry", "deadline"] = "expiry"

    @model_validator(mode="after")
    def _one_count(self) -> Lead:
        if (self.days is None) == (self.working_days is None):
            raise ValueError(
                "give exactly one of days or working_days, e.g. {working_days: 10, "
                "before: deadline}"
            )
        return self

    @property
    def calendar_days(self) -> int:
        """About as many calendar days (five working days a week): for display and ordering only."""
        return self.days if self.days is not None else math.ceil((self.working_days or 0) * 7 / 5)

    def text(self) -> str:
        count = f"{self.days}天" if self.days is not None else f"{self.working_days}个工作日"
        return f"{'申请截止日' if self.before == 'deadline' else '到期'}前{count}"


#: the entry's first and second reminders when given as ``first_lead``/``second_lead``
_LEAD_FIELDS = (("first_lead", "first_lead_days", 365), ("second_lead", "second_lead_days", 60))


class CatalogueEntry(_Strict):
    licence_name: str = Field(min_length=1)  # 证照名称
    #: short code of the entry: the name of its catalogue page and of its SMS templates
    #: (``<department>.<code>.stage1``); derived from licence_name when not given
    code: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_-]{0,19}$")
    approval_item: str = Field(min_length=1)  # 审批事项名称
    office: str = Field(min_length=1)  # 审批科室
    statutory_validity: str = Field(min_length=1)  # 证照法定有效期
    first_lead_days: Annotated[int, Field(ge=1, le=365)] = 30  # 提醒时限
    second_lead_days: Annotated[int, Field(ge=1, le=60)] = 7
    #: the first/second reminder relative to the expiry or the renewal deadline, in calendar or
    #: working days; instead of first_lead_days/second_lead_days (which then hold about as many
    #: calendar days, for display)
    first_lead: Lead | None = None
    second_lead: Lead | None = None
    #: text of the renewal application time limit, e.g. "有效期届满30个工作日前"
    renewal_window: str = Field(min_length=1)
    #: days before expiry by which the renewal must be applied for (0: up to the expiry date)
    renewal_deadline_days: Annotated[int, Field(ge=0, le=365)] = 0
    #: the same in Chinese working days (e.g. 30 for "有效期届满30个工作日前"), instead
    renewal_deadline_working_days: Annotated[int, Field(ge=1, le=120)] | None = None
    online_url: str | None = None
    service_hall: str | None = None
    service_phone: str = Field(min_length=5)
    materials: list[str] = Field(min_length=1)
    lapse_consequences: str = Field(min_length=1)
    #: the consequences in a few words for the second SMS (the catalogue page states them in
    #: full); without it the SMS carries lapse_consequences whole
    sms_consequences: str | None = Field(default=None, min_length=1, max_length=60)
    #: the reminder states the licence number's last this many characters (4-6); none: not at all
    licence_no_digits: Annotated[int, Field(ge=4, le=6)] | None = None
    #: the link the SMS gives for everything else (materials, hall, consequences): by default the
    #: entry's published catalogue page under LR_CATALOGUE_URL; a department's own short link here
    page_url: str | None = Field(default=None, pattern=r"^https?://[!-~]+$", max_length=200)
    #: which channels remind at each stage (docs/channels.md); default SMS at both, then a call
    #: task for a holder no channel reached
    channels: ChannelPolicy = DEFAULT_CHANNELS

    @model_validator(mode="before")
    @classmethod
    def _calendar_equivalents(cls, data: Any) -> Any:
        """A lead given as first_lead/second_lead also fills first_lead_days/second_lead_days with
        about as many calendar days, which older readers and the published table show."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        deadline = data.get("renewal_deadline_days") or 0
        if isinstance(data.get("renewal_deadline_working_days"), int):
            deadline = math.ceil(data["renewal_deadline_working_days"] * 7 / 5)
        for rule, days, cap in _LEAD_FIELDS:
            if data.get(rule) is None:
                continue
            try:
                lead = (
                    data[rule] if isinstance(data[rule], Lead) else Lead.model_validate(data[rule])
                )
            except (ValidationError, TypeError):
                continue  # reported against the field itself
            approx = max(lead.calendar_days + (deadline if lead.before == "deadline" else 0), 1)
            if data.get(days, approx) != approx:  # equal: a dump of a validated entry read back
                raise ValueError(f"give {days} or {rule}, not both")
            if approx > cap:
                raise ValueError(
                    f"{rule} ({lead.text()}) is about {approx} calendar days before "
                    f"expiry, more than the {cap} allowed"
                )
            data[days] = approx
        return data

    @model_validator(mode="after")
    def _leads(self) -> CatalogueEntry:
        if self.second_lead_days >= self.first_lead_days:
            raise ValueError(
                f"second_lead_days ({self.second_lead_days}) must be less than "
                f"first_lead_days ({self.first_lead_days})"
            )
        if self.renewal_deadline_working_days is not None and self.renewal_deadline_days:
            raise ValueError(
                "give renewal_deadline_days or renewal_deadline_working_days, not both"
            )
        plain = self.first_lead is None and self.renewal_deadline_working_days is None
        if plain and self.renewal_deadline_days > self.first_lead_days:
            raise ValueError(
                f"renewal_deadline_days ({self.renewal_deadline_days}) is more than first_lead_days "
                f"({self.first_lead_days}): the first reminder would ask the holder to apply by a "
                "date already past; remind earlier"
            )
        if not (self.online_url or self.service_hall):
            raise ValueError("give online_url, service_hall or both: where to apply")
        return self

    @property
    def entry_code(self) -> str:
        """``code``, or one derived from the licence name that stays the same across edits."""
        if self.code:
            return self.code
        return (
            "e"
            + hashlib.md5(self.licence_name.encode("utf-8"), usedforsecurity=False).hexdigest()[:7]
        )

    @property
    def first_rule(self) -> Lead:
        return self.first_lead or Lead(days=self.first_lead_days)

    @property
    def second_rule(self) -> Lead:
        return self.second_lead or Lead(days=self.second_lead_days)

    @property
    def deadline_rule(self) -> Lead:
        """The last day to apply for renewal, before the expiry date."""
        if self.renewal_deadline_working_days is not None:
            return Lead(working_days=self.renewal_deadline_working_days)
        return Lead(days=self.renewal_deadline_days)

    @property
    def calendar_leads(self) -> bool:
        """Every date of the entry is a fixed number of calendar days before the expiry."""
        return all(
            r.days is not None and r.before == "expiry"
            for r in (self.first_rule, self.second_rule, self.deadline_rule)
        )

    def lead_rule(self) -> str | None:
        """The entry's leads as the ledger database keeps them (None: plain calendar days)."""
        if self.calendar_leads:
            return None
        return json.dumps(
            {
                name: rule.model_dump(exclude_none=True)
                for name, rule in (
                    ("first", self.first_rule),
                    ("second", self.second_rule),
                    ("deadline", self.deadline_rule),
                )
            },
            sort_keys=True,
        )


class Catalogue(_Strict):
    department: str = Field(pattern=_CODE)
    entries: list[CatalogueEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Catalogue:
        names = [e.licence_name for e in self.entries]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"licence_name listed twice: {dupes}")
        codes = [e.entry_code for e in self.entries]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"code listed twice: {dupes}")
        return self

    def entry(self, licence_name: str) -> CatalogueEntry | None:
        return next((e for e in self.entries if e.licence_name == licence_name), None)


def _problems(exc: ValidationError, model: type[BaseModel]) -> list[str]:
    out = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        out.append(f"field '{where}': {_message(err, model)}")
    return out


def _message(err: Any, model: type[BaseModel]) -> str:
    """pydantic's message, with what a person editing the file by hand needs to fix it."""
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if kind == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        close = difflib.get_close_matches(str(loc[-1]), known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown field: {hint}the fields here are {sorted(known)}"
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return f'must be text: put the value in quotes, e.g. "{value}" (YAML reads {value} as a number)'
    if kind == "string_pattern_mismatch":
        if loc[-1] == "region_code":
            return f'must be the six digits of a 行政区划代码, e.g. "410505" (got {value!r})'
        if loc[-1] == "code":
            return (
                f"must be 2-32 lower-case letters, digits or _, starting with a letter, e.g. "
                f'"sxhjj" (got {value!r})'
            )
    if kind == "value_error":  # our own validators' messages, without pydantic's "Value error, "
        return str(err["ctx"]["error"]) if "error" in err.get("ctx", {}) else str(err["msg"])
    return str(err["msg"])


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The field names of the nested model at ``loc`` (``()`` is the model itself)."""
    for name in loc:
        if isinstance(name, int):  # an item of a list of models
            continue
        field = model.model_fields.get(str(name))
        annotation = field.annotation if field else None
        if typing.get_origin(annotation) is list:
            (annotation,) = typing.get_args(annotation)
        elif typing.get_args(annotation):  # X | None
            annotation = next(
                (
                    a
                    for a in typing.get_args(annotation)
                    if isinstance(a, type) and issubclass(a, BaseModel)
                ),
                annotation,
            )
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return []
        model = annotation
    return list(model.model_fields)


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RegistryError(
            path,
            [
                (
                    f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}; "
                    'GBK/GB18030, "ANSI" in Windows Notepad, is the usual cause): save it as UTF-8'
                )
            ],
        ) from None
    except OSError as exc:
        raise RegistryError(path, [f"cannot be read: {exc.strerror}"]) from exc


_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(path: Path) -> object:
    text = _read_text(path)
    try:
        # libyaml: the pure-Python parser took a third of parsing the sync DAG file over 100
        # department files (scripts/bench_scale.py)
        return yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        pass
    try:  # the pure-Python parser's message quotes the line at fault
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise RegistryError(path, [f"not valid YAML: {exc}"]) from exc


def select_problem(sql: str) -> str | None:
    """Why ``sql`` is not the one SELECT (or WITH … SELECT) an extract must be; None if it is."""
    code = "\n".join(
        ln
        for ln in sql.strip().rstrip(";").strip().splitlines()
        if not ln.lstrip().startswith("--")
    ).strip()
    if not code:
        return "is empty"
    if not code.lower().startswith(("select", "with")):
        return f"must be a single SELECT statement (it starts with {code.split()[0][:20]!r})"
    if ";" in code:
        return "must be a single SELECT statement (it has a ';' inside: more than one statement)"
    return None


def _sql_file(department_file: Path, name: str, field: str = "source.extract_sql_file") -> Path:
    """A SQL file a department file names (``field``) resolved: absolute as given; relative, beside
    the department file (an operator's own registry folder), else under ``include/`` (the
    project's ``sql/sources/``)."""
    given = Path(name)
    tried = (
        [given] if given.is_absolute() else [department_file.parent / given, INCLUDE_DIR / given]
    )
    for candidate in tried:
        if candidate.is_file():
            return candidate
    raise RegistryError(
        department_file,
        [
            f"field {field!r}: {name} was not found: looked for "
            + " and ".join(str(c) for c in tried)
            + (
                " (a relative path is read beside the department file, then under include/)"
                if len(tried) > 1
                else ""
            )
        ],
    )


def load_department(path: Path) -> Department:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise RegistryError(path, ["must be a YAML mapping with code, name, region_code, ..."])
    # said with the schema's problems, not after they are fixed: a DBA fixes a file in one round
    stem = (
        [f"field 'code': {data['code']!r} must equal the file name stem"]
        if isinstance(data.get("code"), str) and data["code"] != path.stem
        else []
    )
    try:
        dept = Department.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(path, _problems(exc, Department) + stem) from None
    if stem:
        raise RegistryError(path, stem)
    if dept.source.extract_sql_file:
        sql_path = _sql_file(path, dept.source.extract_sql_file)
        # kept resolved: the task reads it again from wherever it runs
        dept = dept.model_copy(
            update={"source": dept.source.model_copy(update={"extract_sql_file": str(sql_path)})}
        )
        try:
            problem = select_problem(_read_text(sql_path))
        except RegistryError as exc:
            raise RegistryError(
                path, [f"field 'source.extract_sql_file': {sql_path} {p}" for p in exc.problems]
            ) from None
        if problem:
            raise RegistryError(path, [f"field 'source.extract_sql_file': {sql_path} {problem}"])
    elif problem := select_problem(dept.source.extract_sql or ""):
        raise RegistryError(path, [f"field 'source.extract_sql' {problem}"])
    if (renewals := dept.source.renewals) is not None:
        field = "source.renewals.sql_file" if renewals.sql_file else "source.renewals.sql"
        if renewals.sql_file:  # kept resolved, as extract_sql_file
            found = _sql_file(path, renewals.sql_file, field)
            dept = dept.model_copy(
                update={
                    "source": dept.source.model_copy(
                        update={"renewals": renewals.model_copy(update={"sql_file": str(found)})}
                    )
                }
            )
        try:
            problem = select_problem(dept.renewals_sql_text() or "")
        except RegistryError as exc:
            raise RegistryError(path, [f"field {field!r}: {p}" for p in exc.problems]) from None
        if problem:
            raise RegistryError(path, [f"field {field!r} {problem}"])
    return dept


def load_catalogue(path: Path) -> Catalogue:
    data = _read_yaml(path)
    if not isinstance(data, dict):
        raise RegistryError(path, ["must be a YAML mapping with department and entries"])
    try:
        cat = Catalogue.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(
            path, [_name_entry(p, data) for p in _problems(exc, Catalogue)]
        ) from None
    if path.stem != cat.department:
        raise RegistryError(
            path, [f"field 'department': {cat.department!r} must equal the file name stem"]
        )
    return cat


def _name_entry(problem: str, data: dict[str, Any]) -> str:
    """``field 'entries.3.channels.stage1'`` with the entry's licence name beside its number: a
    catalogue has dozens of entries and the editor looks them up by name."""
    match = re.match(r"field 'entries\.(\d+)", problem)
    entries = data.get("entries")
    if not match or not isinstance(entries, list) or int(match[1]) >= len(entries):
        return problem
    entry = entries[int(match[1])]
    name = entry.get("licence_name") if isinstance(entry, dict) else None
    return f"{problem} (in the entry of {name!r})" if name else problem


@dataclass(frozen=True)
class RegistryEntry:
    """One department file: either its loaded config or why it could not be loaded."""

    path: Path
    department: Department | None
    error: RegistryError | None

    @property
    def code(self) -> str:
        if self.department:
            return self.department.code
        return re.sub(r"[^a-z0-9_]", "_", self.path.stem.lower())


def scan_registry(folder: Path) -> list[RegistryEntry]:
    """Every ``*.yaml`` in the folder, each loaded on its own so one bad file spoils only itself."""
    entries = []
    for path in sorted(folder.glob("*.y*ml")):
        if (
            path.suffix != ".yaml"
        ):  # tasks and catalogues are found by <code>.yaml: a .yml would never run
            twin = path.with_suffix(".yaml")
            entries.append(
                RegistryEntry(
                    path,
                    None,
                    RegistryError(
                        path,
                        [
                            f"a second file for department {path.stem!r}: {twin.name} is the one used; delete this one"
                            if twin.exists()
                            else f"department files end in .yaml: rename it {twin.name}"
                        ],
                    ),
                )
            )
            continue
        try:
            entries.append(RegistryEntry(path, load_department(path), None))
        except RegistryError as exc:
            entries.append(RegistryEntry(path, None, exc))
    return entries


def catalogue_path(code: str, folder: Path) -> Path:
    return Path(folder) / f"{code}.yaml"


def catalogue_for(code: str, folder: Path) -> Catalogue:
    path = catalogue_path(code, folder)
    if not path.is_file():
        raise RegistryError(path, [f"no catalogue file for department {code!r}"])
    return load_catalogue(path)
