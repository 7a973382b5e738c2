"""Public catalogue pages (R2) and ledger exports (R3) in the document's attachment layouts.

Each department gets a page of its catalogue and one page per entry (``<code>.html``, everything
a reminder must tell: materials, hall, online service, consequences, phone): the page every SMS
reminder of that entry links to, under LR_CATALOGUE_URL.

Attachment 1 (目录): 序号 审批事项名称 证照名称 审批科室 证照法定有效期 提醒时限.
Attachment 2 (台账): 序号 证照持有单位(个人) 证照名称 期满日期 联系人(提醒对象) 身份证号 联系人手机号码 提醒日期.
"""

from __future__ import annotations

import csv
import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from licence_reminder.config import TEMPLATES_DIR
from licence_reminder.masking import mask_id, mask_mobile
from licence_reminder.registry import (
    Catalogue,
    CatalogueEntry,
    RegistryError,
    load_catalogue,
    scan_registry,
)

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger(__name__)

CATALOGUE_HEADERS = ("序号", "审批事项名称", "证照名称", "审批科室", "证照法定有效期", "提醒时限")
LEDGER_HEADERS = (
    "序号",
    "证照持有单位(个人)",
    "证照名称",
    "期满日期",
    "联系人(提醒对象)",
    "身份证号",
    "联系人手机号码",
    "提醒日期",
)


def lead_text(entry: CatalogueEntry) -> str:
    """提醒时限 as attachment 1 states it, e.g. 申请截止日前10个工作日；二次提醒到期前7天."""
    return f"{entry.first_rule.text()}；二次提醒{entry.second_rule.text()}"


def catalogue_rows(cat: Catalogue) -> list[tuple[Any, ...]]:
    return [
        (i, e.approval_item, e.licence_name, e.office, e.statutory_validity, lead_text(e))
        for i, e in enumerate(cat.entries, 1)
    ]


def _jinja():  # type: ignore[no-untyped-def]
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )


def publish_catalogues(
    catalogue_dir: Path, registry_dir: Path, out_dir: Path
) -> tuple[list[Path], list[str]]:
    """Write each department's page, CSV and XLSX, and a city-wide index. Returns (files, problems)."""
    from openpyxl import Workbook

    env = _jinja()
    written: list[Path] = []
    problems: list[str] = []
    published = []
    today = dt.date.today()
    for entry in scan_registry(registry_dir):
        if entry.department is None:
            problems.append(f"skipped {entry.path}: {entry.error}")
            continue
        dept = entry.department
        try:
            cat = load_catalogue(catalogue_dir / f"{dept.code}.yaml")
        except RegistryError as exc:
            problems.append(f"skipped {exc.path}: {'; '.join(exc.problems)}")
            continue
        folder = out_dir / dept.code
        folder.mkdir(parents=True, exist_ok=True)
        title = f"{dept.name}证照到期提前提醒事项目录"
        page = folder / "index.html"
        page.write_text(
            env.get_template("catalogue_page.html.j2").render(
                title=title, dept=dept, entries=cat.entries, lead_text=lead_text, today=today
            ),
            encoding="utf-8",
        )
        # one page per entry: the link every reminder SMS of the entry gives (sms_templates.entry_link)
        for e in cat.entries:
            entry_page = folder / f"{e.entry_code}.html"
            entry_page.write_text(
                env.get_template("catalogue_entry.html.j2").render(
                    dept=dept, e=e, lead_text=lead_text, today=today
                ),
                encoding="utf-8",
            )
            written.append(entry_page)
        rows = catalogue_rows(cat)
        with (folder / "catalogue.csv").open("w", encoding="utf-8-sig", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(CATALOGUE_HEADERS)
            writer.writerows(rows)
        wb = Workbook()
        ws = wb.active
        ws.title = dept.name[:31]
        ws.append([title])
        ws.append(list(CATALOGUE_HEADERS))
        for r in rows:
            ws.append(list(r))
        wb.save(folder / "catalogue.xlsx")
        written += [page, folder / "catalogue.csv", folder / "catalogue.xlsx"]
        published.append((dept, len(cat.entries)))
    index = out_dir / "index.html"
    out_dir.mkdir(parents=True, exist_ok=True)
    index.write_text(
        env.get_template("catalogue_index.html.j2").render(departments=published, today=today),
        encoding="utf-8",
    )
    written.append(index)
    for p in problems:
        log.warning("%s", p)
    return written, problems


def export_ledger(
    engine: Engine,
    out_path: Path,
    *,
    dept_code: str | None = None,
    unmasked: bool = False,
    include_inactive: bool = False,
) -> int:
    """The ledger in the attachment-2 layout as XLSX: mobiles masked unless asked; identity
    numbers always masked, the only form the ledger keeps.

    Names are not masked: the department needs them to act on the ledger.
    """
    from openpyxl import Workbook

    from licence_reminder.db import sql

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("台账")
    ws.append(["证照到期提醒事项台账" + (f"（{dept_code}）" if dept_code else "")])
    headers = list(LEDGER_HEADERS)
    if dept_code is None:
        headers.insert(1, "部门")
    if include_inactive:  # beyond attachment 2: which licence, and why it is not reminded
        headers += ["证照编号", "状态"]
    ws.append(headers)
    n = 0
    with engine.connect() as conn:
        result = conn.execute(
            sql("export_ledger", conn),
            {"dept_code": dept_code, "include_inactive": 1 if include_inactive else 0},
        )
        for r in result:
            n += 1
            row: list[Any] = [
                n,
                r.holder_name,
                r.licence_name,
                _date(r.expiry_date),
                r.contact_name,
                mask_id(r.contact_id_no),  # the ledger keeps it masked (protect.py)
                r.contact_mobile if unmasked else mask_mobile(r.contact_mobile),
                _date(r.first_reminder_on),
            ]
            if dept_code is None:
                row.insert(1, r.dept_name)
            if include_inactive:
                row += [r.licence_no, _STATUS_ZH["vanished" if r.vanished_at else r.status]]
            ws.append(row)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(out_path)
    return n


_STATUS_ZH = {
    "valid": "有效",
    "revoked": "吊销",
    "cancelled": "注销",
    "vanished": "源系统中已无此证",
}


def _date(v: Any) -> dt.date | None:
    if v is None or isinstance(v, dt.date):
        return v
    return dt.date.fromisoformat(str(v)[:10])
