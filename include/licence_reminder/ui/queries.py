"""Helpers the pages' queries share: SQL files with optional filters, bound values, tables out."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from licence_reminder.masking import mask_id, mask_mobile

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine
    from sqlalchemy.sql.elements import TextClause


def templated(
    name: str, bind: Engine | Connection, *, expanding: Sequence[str] = (), **switches: Any
) -> TextClause:
    """``include/sql/<name>.sql`` rendered by Jinja with ``switches`` (which optional filters
    apply, the dialect): the statement's shape only — every value stays a bound parameter."""
    import jinja2
    from sqlalchemy import bindparam, text

    from licence_reminder.db import dialect_of, sql_source

    source = sql_source(name, bind)
    rendered = (
        jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)
        .from_string(source)
        .render(dialect=dialect_of(bind).name, **switches)
    )
    statement = text(rendered)
    if expanding:
        statement = statement.bindparams(*(bindparam(n, expanding=True) for n in expanding))
    return statement


def stamp(value: dt.datetime | dt.date) -> str:
    """A bound date or time as the ledger stores it (text in SQLite; MariaDB converts)."""
    return (
        value.strftime("%Y-%m-%d %H:%M:%S") if isinstance(value, dt.datetime) else value.isoformat()
    )


def as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


_DIGIT_RUN = re.compile(r"\+?\d[\d -]{5,}\d")


def scrub(text: Any) -> str | None:
    """Free text from a provider or an error, with any run of digits long enough to be a
    mobile or an ID number masked (a provider may echo the number it refused)."""
    if text is None:
        return None

    def _mask(m: re.Match[str]) -> str:
        digits = re.sub(r"[ -]", "", m.group())
        if len(digits.lstrip("+")) >= 15:
            return mask_id(digits)
        return mask_mobile(digits) if len(digits.lstrip("+")) >= 7 else m.group()

    return _DIGIT_RUN.sub(_mask, str(text))


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM (Excel opens Chinese text right), produced a block at a time."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    buf.write("\ufeff")
    writer.writerow(headers)
    for i, row in enumerate(rows, 1):
        writer.writerow(["" if v is None else v for v in row])
        if i % 2000 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue().encode("utf-8")


def xlsx_bytes(sheets: Sequence[tuple[str, str, Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    """A workbook of (sheet name, title line, headers, rows) sheets, written in streaming mode."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for name, title, headers, rows in sheets:
        ws = wb.create_sheet(name[:31])
        if title:
            ws.append([title])
        ws.append(list(headers))
        for row in rows:
            ws.append([_cell(v) for v in row])
    with tempfile.SpooledTemporaryFile(max_size=32 << 20) as f:
        wb.save(f)
        f.seek(0)
        return f.read()


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | int | float) or value is None:
        return value
    return str(value)
