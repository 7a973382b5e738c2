"""``extract_sql_file``: beside the department file (an operator's own registry folder), then under
``include/``; a file found in neither says where it looked."""

from __future__ import annotations

from pathlib import Path

import pytest
from licence_reminder import registry
from licence_reminder.registry import RegistryError, load_department

DEPT = """\
code: dept1
name: 安阳市某局
region_code: "410500"
contact: {name: 李工}
source:
  conn_id: src_dept1
  extract_sql_file: SQLFILE
  sync: {mode: incremental, watermark_column: source_updated_at}
"""


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(the operator's registry folder, the project's include/)."""
    own, include = tmp_path / "registry" / "departments", tmp_path / "include"
    own.mkdir(parents=True)
    (include / "sql" / "sources").mkdir(parents=True)
    monkeypatch.setattr(registry, "INCLUDE_DIR", include)
    return own, include


def department(own: Path, sql_file: str) -> Path:
    path = own / "dept1.yaml"
    path.write_text(DEPT.replace("SQLFILE", sql_file), encoding="utf-8")
    return path


def test_a_file_beside_the_department_file(folders: tuple[Path, Path]) -> None:
    own, _ = folders
    (own / "dept1_extract.sql").write_text("SELECT 1 AS licence_no", encoding="utf-8")
    dept = load_department(department(own, "dept1_extract.sql"))
    assert dept.source.extract_sql_file == str(own / "dept1_extract.sql")
    assert dept.extract_sql_text() == "SELECT 1 AS licence_no"


def test_a_path_under_include_as_before(folders: tuple[Path, Path]) -> None:
    own, include = folders
    (include / "sql" / "sources" / "dept1.sql").write_text(
        "SELECT 2 AS licence_no", encoding="utf-8"
    )
    dept = load_department(department(own, "sql/sources/dept1.sql"))
    assert dept.extract_sql_text() == "SELECT 2 AS licence_no"


def test_the_registry_folder_comes_first(folders: tuple[Path, Path]) -> None:
    own, include = folders
    (own / "x.sql").write_text("SELECT 'own' AS licence_no", encoding="utf-8")
    (include / "x.sql").write_text("SELECT 'include' AS licence_no", encoding="utf-8")
    assert "own" in load_department(department(own, "x.sql")).extract_sql_text()


def test_an_absolute_path(folders: tuple[Path, Path], tmp_path: Path) -> None:
    own, _ = folders
    (tmp_path / "abs.sql").write_text("SELECT 3 AS licence_no", encoding="utf-8")
    assert (
        load_department(department(own, str(tmp_path / "abs.sql"))).extract_sql_text()
        == "SELECT 3 AS licence_no"
    )


def test_not_found_names_both_places_tried(folders: tuple[Path, Path]) -> None:
    own, include = folders
    with pytest.raises(RegistryError) as err:
        load_department(department(own, "sql/sources/missing.sql"))
    text = str(err.value)
    assert "field 'source.extract_sql_file': sql/sources/missing.sql was not found" in text
    assert (
        str(own / "sql/sources/missing.sql") in text
        and str(include / "sql/sources/missing.sql") in text
    )


def test_a_file_found_is_still_checked(folders: tuple[Path, Path]) -> None:
    own, _ = folders
    (own / "bad.sql").write_text("DELETE FROM t", encoding="utf-8")
    with pytest.raises(RegistryError, match=r"bad.sql must be a single SELECT statement"):
        load_department(department(own, "bad.sql"))
