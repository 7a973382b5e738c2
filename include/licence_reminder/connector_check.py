"""``connector check``: what a department DBA runs before (and after) registering a source.

Validates the department file and its catalogue, connects through the named Airflow connection,
runs the extract with a row limit, applies the validation rules, and prints what would not be
loaded and what would load with warnings (please fix) and why — with masked examples. Writes
nothing anywhere.

Exit status: 0 all rows would load cleanly; 1 some rows would not load, or load with warnings;
2 the file, the catalogue, the connection or the SQL is wrong.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from licence_reminder.config import Settings
from licence_reminder.errors import PermanentError, TransientError
from licence_reminder.registry import (
    Catalogue,
    Department,
    RegistryError,
    catalogue_for,
    catalogue_path,
    load_department,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine


def check(
    path: Path,
    *,
    limit: int = 1000,
    today: dt.date | None = None,
    catalogue_dir: Path | None = None,
    out: TextIO = sys.stdout,
) -> int:
    def say(line: str = "") -> None:
        print(line, file=out)

    today = today or dt.date.today()
    if path.suffix != ".yaml":
        say(
            f"FAIL  department file {path}: department files end in .yaml (the DAGs load "
            f"<code>.yaml only): rename it {path.stem}.yaml"
        )
        return 2
    try:
        dept = load_department(path)
    except RegistryError as exc:
        say(f"FAIL  department file {path}")
        for problem in exc.problems:
            say(f"      - {problem}")
        return 2
    say(f"ok    department file {path}: {dept.code} {dept.name} (region {dept.region_code})")
    folder = catalogue_dir or Settings.from_env().catalogue_dir
    try:
        catalogue = catalogue_for(dept.code, folder)
    except RegistryError as exc:
        say(f"FAIL  catalogue {exc.path}")
        for problem in exc.problems:
            say(f"      - {problem}")
        say(
            "      (catalogues are read from LR_CATALOGUE_DIR, default include/registry/catalogues; "
            "--catalogue-dir names another folder)"
        )
        return 2
    # which file: a copy of the department file kept elsewhere still reads the registry's catalogue
    say(
        f"ok    catalogue {catalogue_path(dept.code, folder)}: {len(catalogue.entries)} licence kinds"
    )

    from licence_reminder.db import connection_url, engine_from_url, get_airflow_connection

    try:
        conn = get_airflow_connection(dept.source.conn_id)
    except Exception as exc:  # noqa: BLE001 - Airflow's NotFound type moved between 3.x releases
        env = "AIRFLOW_CONN_" + dept.source.conn_id.upper()
        say(
            f"FAIL  Airflow connection {dept.source.conn_id!r} is not defined ({type(exc).__name__}): "
            f"add it in the Airflow UI or set {env}"
        )
        return 2
    try:
        engine = engine_from_url(connection_url(conn))
    except ValueError as exc:
        say(f"FAIL  {exc}")
        return 2
    from sqlalchemy.exc import SQLAlchemyError

    from licence_reminder.errors import classify_db_error

    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        error = classify_db_error(
            exc, what=f"connection {dept.source.conn_id!r} ({engine.dialect.name})"
        )
        say(f"FAIL  {error}")
        say(
            "      check the connection's host, port, login, password and schema (the database name)"
        )
        return 2
    say(f"ok    connection {dept.source.conn_id!r} ({engine.dialect.name}): connected")
    if dept.gateway_conn_id:
        from licence_reminder.gateways.factory import GatewayConfig

        try:
            GatewayConfig.from_connection(get_airflow_connection(dept.gateway_conn_id))
        except Exception as exc:  # noqa: BLE001 - not defined, or incomplete: either way it cannot send
            engine.dispose()
            say(
                f"FAIL  gateway connection {dept.gateway_conn_id!r} (gateway_conn_id) cannot be used: "
                f"{type(exc).__name__}: {exc}; the dispatch holds the department's reminders until it can"
            )
            return 2
        say(f"ok    gateway connection {dept.gateway_conn_id!r}")

    try:
        return _extract_and_split(engine, dept, catalogue, limit=limit, today=today, say=say)
    finally:
        engine.dispose()


def _extract_and_split(
    engine: Engine,
    dept: Department,
    catalogue: Catalogue,
    *,
    limit: int,
    today: dt.date,
    say: Callable[[str], None],
) -> int:
    from licence_reminder.sync.extract import identities, stream_chunks
    from licence_reminder.validation.duplicates import from_identities
    from licence_reminder.validation.suite import Validator

    validator = Validator(catalogue_names={e.licence_name for e in catalogue.entries}, today=today)
    rejections: list[Any] = []
    warnings: list[dict[str, Any]] = []
    try:
        rows = identities(
            engine, dept
        )  # duplicates decided as a run decides: over the whole extract
        validator.duplicates = from_identities(rows.numbers, rows.stamps, rows.keys, validator.tz)
        for chunk in stream_chunks(engine, dept, watermark=None, limit=limit):
            result = validator.validate(chunk)
            rejections.extend(result.rejected)
            if result.warnings is not None:
                warnings.extend(result.warnings.to_dict("records"))
    except (PermanentError, TransientError) as exc:
        say(f"FAIL  extract: {exc}")
        if (
            engine.dialect.name == "postgresql"
            and 'relation "' in str(exc)
            and "does not exist" in str(exc)
        ):
            say(
                "      a table outside the public schema: qualify it in the SQL (schema.table) or give "
                "the connection the extra key search_path"
            )
        return 2
    totals = validator.totals
    rows, rejected, warned = (
        totals.get("rows", 0),
        totals.get("rejected", 0),
        totals.get("warned", 0),
    )
    if not rows:
        say(
            "FAIL  extract ran but returned no rows: a full run would mark every licence of the "
            "department vanished (it refuses to when that is more than max_vanished_share of them "
            "and more than 10); an empty table, a WHERE that matches nothing, or the wrong database?"
        )
        return 1
    say(
        f"ok    extract ran: {rows} rows read (limit {limit}), {rows - rejected} would load "
        f"({warned} with warnings: loaded and reminded, please fix at the source), "
        f"{rejected} would not load"
    )
    if rejected:
        _report_rejections(totals, rejections, say)
        if totals.get("licence_not_in_catalogue"):
            names = "、".join(e.licence_name for e in catalogue.entries)
            say(f"      the catalogue's licence names (licence_name must equal one): {names}")
        if rejected == rows:
            say(
                "      every row read would be rejected: more likely the SQL's aliases, source.columns "
                "or the catalogue than the data itself"
            )
    if warned:
        _report_warnings(totals, warnings, say)
    if dept.source.sync.split_column:
        say(
            f"ok    split_column {dept.source.sync.split_column!r}: each row's key rides along (a "
            "rejected row shows it; it breaks ties between duplicated licence numbers)"
        )
    return 1 if rejected or warned else 0


def _report_rejections(
    totals: Counter[str], rejections: list[Any], say: Callable[[str], None]
) -> None:
    from licence_reminder.validation.report import collect_examples, rule_counts

    examples = collect_examples(rejections, per_rule=3)
    say(
        "      would NOT load, by rule (a row can fail several; kept in quarantine, never reminded):"
    )
    for rule, count in rule_counts(totals):
        say(f"      {count:>7}  {rule}")
        for ex in examples.get(rule, []):
            where = (
                f"source key {ex['source_key']}"
                if ex.get("source_key")
                else f"extract row {ex.get('row_number')}"
            )
            values = ", ".join(
                f"{c} {_shown(ex.get(c))}" for c in ex.get("columns", []) if c != "licence_no"
            )
            say(
                f"               e.g. {where} licence {ex.get('licence_no') or '-'}"
                f"{f' ({values})' if values else ''}: {ex.get('reason', '')}"
            )


def _report_warnings(
    totals: Counter[str], warnings: list[dict[str, Any]], say: Callable[[str], None]
) -> None:
    from licence_reminder.validation.report import collect_warning_examples, warned_counts

    examples = collect_warning_examples(warnings, per_rule=3)
    say(
        "      would load WITH WARNINGS, by rule (reminded; the failed value is not used; fix at the source):"
    )
    for rule, count in warned_counts(totals):
        say(f"      {count:>7}  {rule}")
        for ex in examples.get(rule, []):
            values = ", ".join(
                f"{c} {_shown(ex.get(c))}" for c in ex["columns"] if c != "licence_no"
            )
            say(
                f"               e.g. licence {ex['licence_no'] or '-'}{f' ({values})' if values else ''}: "
                f"{ex['reason']}"
            )


def _shown(value: Any) -> str:
    """A masked example value as the report shows it: quoted and cut short as reasons quote
    values, empty and missing told apart."""
    from licence_reminder.validation.rules import quoted

    if value is None:
        return "missing"
    return quoted(str(value)) if str(value).strip() else "empty"
