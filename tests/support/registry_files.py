"""Department registry files for the tests that parse the DAGs: a valid department's YAML, and
the fixture ``good_registry``, a folder of two valid departments that ``LR_REGISTRY_DIR`` names.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: a valid department file; ``{code}`` is its code (and its DAG's ``sync_{code}``)
GOOD = """\
code: {code}
name: 测试部门{code}
region_code: "410505"
contact: {{name: 王工, phone: 0372-5550000}}
source:
  conn_id: src_{code}
  extract_sql: SELECT * FROM licences
"""


@pytest.fixture
def good_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Departments ``alpha`` and ``beta``, valid, in the registry the DAG files read."""
    folder = tmp_path / "departments"
    folder.mkdir()
    for code in ("alpha", "beta"):
        (folder / f"{code}.yaml").write_text(GOOD.format(code=code), encoding="utf-8")
    monkeypatch.setenv("LR_REGISTRY_DIR", str(folder))
    return folder
