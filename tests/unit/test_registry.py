"""Registry and catalogue files: validated, with errors naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from licence_reminder.registry import (
    RegistryError,
    load_catalogue,
    load_department,
    scan_registry,
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
        pytest.param(
            DEPT.replace("source_updated_at", "updated"), "source.sync.watermark_column", id="wm"
        ),
        pytest.param(DEPT + "password: hunter2\n", "password", id="no-secrets-allowed"),
        pytest.param(
            DEPT.replace("mode: incremental", "mode: sometimes"), "source.sync.mode", id="mode"
        ),
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


def test_a_code_that_does_not_match_is_said_with_the_schema_s_problems(tmp_path: Path) -> None:
    with pytest.raises(RegistryError) as err:
        load_department(write(tmp_path, "other.yaml", DEPT.replace("contact: {name: 李工}\n", "")))
    assert "field 'contact'" in str(err.value) and "'dept1' must equal the file name stem" in str(
        err.value
    )


def test_bad_yaml_spoils_only_itself(tmp_path: Path) -> None:
    write(tmp_path, "dept1.yaml", DEPT)
    write(tmp_path, "zz.yaml", "code: [unclosed\n")
    entries = scan_registry(tmp_path)
    assert [e.department is not None for e in entries] == [True, False]
    assert "not valid YAML" in str(entries[1].error)


def test_a_yml_file_is_an_error_not_a_department_that_never_runs(tmp_path: Path) -> None:
    write(tmp_path, "dept1.yml", DEPT)
    (entry,) = scan_registry(tmp_path)
    assert entry.department is None and entry.code == "dept1"
    assert "department files end in .yaml: rename it dept1.yaml" in str(entry.error)
    write(tmp_path, "dept1.yaml", DEPT)
    good, stray = scan_registry(tmp_path)
    assert good.department is not None and "dept1.yaml is the one used; delete this one" in str(
        stray.error
    )


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
    late = CAT.replace(
        "    office: 审批科\n", "    office: 审批科\n    renewal_deadline_days: 60\n"
    )
    with pytest.raises(
        RegistryError, match=r"renewal_deadline_days \(60\) is more than first_lead_days \(30\)"
    ):
        load_catalogue(write(tmp_path, "dept1.yaml", late))


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            DEPT.replace('"410500"', "410505"),
            'put the value in quotes, e.g. "410505"',
            id="unquoted",
        ),
        pytest.param(
            DEPT.replace('"410500"', '"41050"'), "six digits of a 行政区划代码", id="region-digits"
        ),
        pytest.param(
            DEPT.replace("  conn_id:", "  extract_sql_flie: x.sql\n  conn_id:"),
            "field 'source.extract_sql_flie': unknown field: did you mean 'extract_sql_file'?",
            id="typo",
        ),
        pytest.param(
            DEPT.replace("watermark_column:", "watermark_colum:"),
            "did you mean 'watermark_column'?",
            id="typo-nested",
        ),
        pytest.param(
            DEPT.replace("source_updated_at}", "updated}"),
            "'licence_no', 'licence_name'",
            id="wm-lists",
        ),
        pytest.param(
            DEPT.replace("SELECT * FROM t", "DELETE FROM t"),
            "field 'source.extract_sql' must be a single SELECT statement (it starts with 'DELETE')",
            id="not-select",
        ),
        pytest.param(
            DEPT.replace("SELECT * FROM t", "'SELECT 1; DROP TABLE t'"),
            "more than one statement",
            id="two-statements",
        ),
        pytest.param(
            DEPT.replace("  conn_id:", "  columns: {mobile: lxdh}\n  conn_id:"),
            "field 'source.columns': unknown canonical column(s) ['mobile']; allowed:",
            id="not-canonical",
        ),
    ],
)
def test_messages_say_how_to_fix(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(RegistryError) as err:
        load_department(write(tmp_path, "dept1.yaml", text))
    assert says in str(err.value)


def test_sql_file_is_checked_when_the_file_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from licence_reminder import registry

    monkeypatch.setattr(registry, "INCLUDE_DIR", tmp_path)
    text = DEPT.replace("extract_sql: SELECT * FROM t", "extract_sql_file: dept1.sql")
    (tmp_path / "dept1.sql").write_text("-- 说明\nUPDATE t SET a = 1", encoding="utf-8")
    with pytest.raises(
        RegistryError,
        match=r"field 'source.extract_sql_file': .*dept1.sql must be a single "
        r"SELECT statement \(it starts with 'UPDATE'\)",
    ):
        load_department(write(tmp_path, "dept1.yaml", text))
    (tmp_path / "dept1.sql").write_bytes("SELECT * FROM t -- 证照".encode("gbk"))
    with pytest.raises(RegistryError, match=r"dept1.sql is not UTF-8 text .*save it as UTF-8"):
        load_department(write(tmp_path, "dept1.yaml", text))


def test_gbk_file_says_save_as_utf8(tmp_path: Path) -> None:
    path = tmp_path / "dept1.yaml"
    path.write_bytes(DEPT.encode("gbk"))
    with pytest.raises(
        RegistryError, match=r"dept1.yaml: is not UTF-8 text .*GBK.*save it as UTF-8"
    ):
        load_department(path)
    assert "not UTF-8" in str(scan_registry(tmp_path)[0].error)


def test_unknown_field_in_a_catalogue_entry_is_suggested(tmp_path: Path) -> None:
    with pytest.raises(
        RegistryError, match=r"field 'entries.0.ofice': unknown field: did you mean 'office'"
    ):
        load_catalogue(write(tmp_path, "dept1.yaml", CAT.replace("    office:", "    ofice:")))


def test_workers_is_accepted_from_files_written_before_it_went_unused(tmp_path: Path) -> None:
    """A run reads through one reader in one process now (docs/adr/0005-reader.md): a file that
    still says how many workers it wanted stays valid."""
    text = DEPT.replace(
        "watermark_column: source_updated_at}", "watermark_column: source_updated_at, workers: 4}"
    )
    assert load_department(write(tmp_path, "dept1.yaml", text)).source.sync.workers == 4


def test_the_documented_reference_file_validates() -> None:
    """docs/connectors.md's field-by-field reference, as a DBA would copy it."""
    import yaml
    from licence_reminder.registry import Department

    docs = (Path(__file__).resolve().parents[2] / "docs" / "connectors.md").read_text(
        encoding="utf-8"
    )
    block = docs.split("## The department file", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    data["source"].pop("extract_sql_file")  # the reference shows both ways; a file gives one
    dept = Department.model_validate(data)
    assert dept.code == "sxhjj" and dept.source.sync.watermark_lookback_seconds == 600
