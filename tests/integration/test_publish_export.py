"""Catalogue publishing (attachment 1) and ledger export (attachment 2), on MariaDB and SQLite."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from conftest import ROOT
from licence_reminder.publish import CATALOGUE_HEADERS, publish_catalogues
from openpyxl import load_workbook

REG = ROOT / "include" / "registry"


def test_catalogue_pages_csv_xlsx(tmp_path: Path) -> None:
    cats = tmp_path / "catalogues"
    cats.mkdir()
    for f in (REG / "catalogues").glob("*.yaml"):
        (cats / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    (cats / "jtysj.yaml").write_text(
        (cats / "jtysj.yaml")
        .read_text(encoding="utf-8")
        .replace("office: 运输管理科", "office: <script>x</script>", 1),
        encoding="utf-8",
    )
    _files, problems = publish_catalogues(cats, REG / "departments", tmp_path / "out")
    assert problems == []
    page = (tmp_path / "out" / "scjgj" / "index.html").read_text(encoding="utf-8")
    assert 'name="viewport"' in page and "食品经营许可证" in page and "药品经营许可证" in page
    assert not re.search(r"<(link|script)[^>]+(src|href)=", page)  # no external assets
    assert "<script>x" not in (tmp_path / "out" / "jtysj" / "index.html").read_text(
        encoding="utf-8"
    )
    with (tmp_path / "out" / "scjgj" / "catalogue.csv").open(encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == CATALOGUE_HEADERS and rows[1][2] == "食品经营许可证"
    ws = load_workbook(tmp_path / "out" / "scjgj" / "catalogue.xlsx").active
    assert tuple(c.value for c in ws[2]) == CATALOGUE_HEADERS
    assert ws["F3"].value == "申请截止日前10个工作日；二次提醒到期前7天"  # the food licence's rule
    assert "安阳市市场监督管理局" in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")


def test_each_entry_has_the_page_its_reminders_link_to(tmp_path: Path) -> None:
    from licence_reminder.registry import load_catalogue
    from licence_reminder.sms_templates import build

    publish_catalogues(REG / "catalogues", REG / "departments", tmp_path / "out")
    catalogue = load_catalogue(REG / "catalogues" / "scjgj.yaml")
    for entry in catalogue.entries:
        link = f"https://zwfw.example.gov.cn/tx/scjgj/{entry.entry_code}.html"
        assert (
            link in build("scjgj", entry, 1, catalogue_url="https://zwfw.example.gov.cn/tx").text()
        )
        page = (tmp_path / "out" / "scjgj" / f"{entry.entry_code}.html").read_text(encoding="utf-8")
        # everything attachment 3 asks a reminder to say, one tap from the SMS
        for part in (
            entry.licence_name,
            entry.renewal_window,
            entry.service_hall,
            entry.online_url,
            entry.service_phone,
            entry.lapse_consequences,
            *entry.materials,
        ):
            assert part and part in page, part
        assert not re.search(r"<(link|script)[^>]+(src|href)=", page)
    index = (tmp_path / "out" / "scjgj" / "index.html").read_text(encoding="utf-8")
    assert 'id="spjy"' in index and 'href="spjy.html"' in index


def test_broken_catalogue_is_skipped_and_named(tmp_path: Path) -> None:
    cats = tmp_path / "catalogues"
    cats.mkdir()
    (cats / "scjgj.yaml").write_text("department: scjgj\nentries: []\n", encoding="utf-8")
    _, problems = publish_catalogues(cats, REG / "departments", tmp_path / "out")
    assert any("scjgj.yaml" in p for p in problems) and any("jtysj.yaml" in p for p in problems)
