"""Registry and catalogue files: validated, with errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from licence_reminder.registry import (
    RegistryError, load_catalogue, load_department, scan_registry,
)

DEPT = """\
code: dept1
name: 安阳市某局
region_code: "410500"
contact: {name: 李工}
source:
  conn_id: src_dept1
  extract_sql: SELECT * FROM t
  sync: {mode: incremental, watermark_column: source_updated_at}
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_loads_a_good_file(tmp_path: Path) -> None:
    dept = load_department(write(tmp_path, "dept1.yaml", DEPT))
    assert dept.dag_id == "sync_dept1" and dept.source.sync.chunk_size == 50_000


@pytest.mark.parametrize(
    ("text", "field"),
    [
        pytest.param(DEPT.replace('"410500"', '"4105"'), "region_code", id="region"),
        pytest.param(DEPT.replace("  extract_sql: SELECT * FROM t\n", ""), "source", id="no-sql"),
        pytest.param(DEPT.replace("source_updated_at", "updated"), "source.sync.watermark_column", id="wm"),
        pytest.param(DEPT + "password: hunter2\n", "password", id="no-secrets-allowed"),
        pytest.param(DEPT.replace("mode: incremental", "mode: sometimes"), "source.sync.mode", id="mode"),
    ],
)
def test_errors_name_file_and_field(tmp_path: Path, text: str, field: str) -> None:
    path = write(tmp_path, "dept1.yaml", text)
    with pytest.raises(RegistryError) as err:
        load_department(path)
    assert str(path) in str(err.value) and f"field '{field}" in str(err.value)


def test_code_must_match_file_name(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="file name"):
        load_department(write(tmp_path, "other.yaml", DEPT))


def test_bad_yaml_spoils_only_itself(tmp_path: Path) -> None:
    write(tmp_path, "dept1.yaml", DEPT)
    write(tmp_path, "zz.yaml", "code: [unclosed\n")
    entries = scan_registry(tmp_path)
    assert [e.department is not None for e in entries] == [True, False]
    assert "not valid YAML" in str(entries[1].error)


CAT = """\
department: dept1
entries:
  - licence_name: 食品经营许可证
    approval_item: 食品经营许可
    office: 审批科
    statutory_validity: 5年
    renewal_window: 有效期届满30个工作日前
    online_url: https://zwfw.example.gov.cn
    service_phone: 0372-1234567
    materials: [申请书]
    lapse_consequences: 无证经营将被依法查处。
"""


def test_catalogue_defaults_and_checks(tmp_path: Path) -> None:
    cat = load_catalogue(write(tmp_path, "dept1.yaml", CAT))
    entry = cat.entry("食品经营许可证")
    assert entry is not None and (entry.first_lead_days, entry.second_lead_days) == (30, 7)
    bad = CAT.replace("    online_url: https://zwfw.example.gov.cn\n", "")
    with pytest.raises(RegistryError, match="where to apply"):
        load_catalogue(write(tmp_path, "dept1.yaml", bad))
    leads = CAT.replace("    office: 审批科\n", "    office: 审批科\n    first_lead_days: 5\n")
    with pytest.raises(RegistryError, match="second_lead_days"):
        load_catalogue(write(tmp_path, "dept1.yaml", leads))
