"""DAG integrity: every DAG imports, ids, tags, retries, docs; nothing heavy at parse time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from support.registry_files import GOOD

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ["pandas", "numpy", "great_expectations", "pymysql", "psycopg2", "requests", "openpyxl"]


@pytest.fixture
def registry(good_registry: Path) -> Path:
    (good_registry / "broken.yaml").write_text(
        "code: broken\nname: x\nregion_code: 41050\n", encoding="utf-8"
    )
    return good_registry


@pytest.fixture
def dagbag(registry: Path):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_only_the_bad_department_file_is_an_import_error(dagbag) -> None:  # type: ignore[no-untyped-def]
    ((path, error),) = dagbag.import_errors.items()
    assert Path(path).name == "registry_errors.py"
    assert "broken.yaml" in error and "region_code" in error
    assert "alpha.yaml" not in error and "beta.yaml" not in error


def test_no_import_errors_when_every_file_validates(registry: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (registry / "broken.yaml").unlink()
    assert DagBag(dag_folder=str(ROOT / "dags")).import_errors == {}


def test_a_stray_yml_beside_a_department_file_leaves_its_dag_working(registry: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (registry / "alpha.yml").write_text(GOOD.format(code="alpha"), encoding="utf-8")
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert "config-error" not in bag.dags["sync_alpha"].tags
    (error,) = (e for p, e in bag.import_errors.items() if Path(p).name == "registry_errors.py")
    assert "alpha.yml" in error and "alpha.yaml is the one used; delete this one" in error


def test_one_sync_dag_per_department_and_dispatch(dagbag) -> None:  # type: ignore[no-untyped-def]
    assert set(dagbag.dag_ids) == {
        "sync_alpha",
        "sync_beta",
        "sync_broken",
        "dispatch_reminders",
        "dispatch_deadline",
    }


def test_tags_retries_docs(dagbag) -> None:  # type: ignore[no-untyped-def]
    for dag_id in ("sync_alpha", "sync_beta", "dispatch_reminders", "dispatch_deadline"):
        dag = dagbag.dags[dag_id]
        assert "licence-reminder" in dag.tags
        assert dag.doc_md and len(dag.doc_md) > 100
        for t in dag.tasks:
            if (dag_id, t.task_id) in VERDICTS:  # they only say how the run went: nothing to retry
                continue
            assert t.retries >= 1, f"{dag_id}.{t.task_id} has no retries"
    assert "region:410505" in dagbag.dags["sync_alpha"].tags


VERDICTS = {("dispatch_reminders", "held"), ("dispatch_reminders", "watch")}


def test_a_dispatch_run_that_did_not_send_everything_fails(dagbag) -> None:  # type: ignore[no-untyped-def]
    """receipts runs whatever happened (all_done): without a failing leaf a run whose render or
    send failed would end green."""
    dag = dagbag.dags["dispatch_reminders"]
    watch, held = dag.get_task("watch"), dag.get_task("held")
    assert str(watch.trigger_rule).rsplit(".", 1)[-1].lower() == "one_failed"
    assert (
        watch.upstream_task_ids == {"plan", "render", "send", "send_miniprogram", "receipts"}
        and not watch.downstream_task_ids
    )
    assert held.upstream_task_ids == {"render"} and not held.downstream_task_ids


def test_sync_dag_shape(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["sync_alpha"]
    assert [t.task_id for t in dag.topological_sort()] == ["start_run", "extract_validate_publish"]
    assert dag.schedule is not None or dag.timetable is not None


def test_broken_registry_file_breaks_only_its_own_dag(dagbag) -> None:  # type: ignore[no-untyped-def]
    dag = dagbag.dags["sync_broken"]
    assert "config-error" in dag.tags
    assert "region_code" in dag.doc_md and "broken.yaml" in dag.doc_md
    assert dag.tasks[0].retries == 0


def test_dispatch_send_is_mapped_in_the_sms_pool(dagbag) -> None:  # type: ignore[no-untyped-def]
    send = dagbag.dags["dispatch_reminders"].get_task("send")
    assert send.pool == "sms_gateway"


def test_a_dispatch_not_finished_by_the_deadline_hour_is_checked_then(dagbag) -> None:  # type: ignore[no-untyped-def]
    """LR_DISPATCH_DEADLINE 12:00 by default (an Airflow DAG deadline would break `dags test`
    of the dispatch in Airflow 3.3: docs/adr/0501)."""
    dag = dagbag.dags["dispatch_deadline"]
    assert dag.timetable.expression == "0 12 * * *"
    assert [t.task_id for t in dag.tasks] == ["check"]
    assert not dagbag.dags["dispatch_reminders"].deadline


def test_a_sync_that_fails_after_its_retries_is_alerted(dagbag) -> None:  # type: ignore[no-untyped-def]
    for task in dagbag.dags["sync_alpha"].tasks:
        (callback,) = task.on_failure_callback
        assert callback.__qualname__ == "build_sync_dag.<locals>.alert_failed"


def test_mini_program_messages_go_in_a_task_of_their_own(dagbag) -> None:  # type: ignore[no-untyped-def]
    """A WeChat account problem fails that task only: SMS goes out whatever WeChat says."""
    dag = dagbag.dags["dispatch_reminders"]
    mini = dag.get_task("send_miniprogram")
    assert mini.upstream_task_ids == {"render"} and mini.pool != "sms_gateway"
    assert "receipts" in mini.downstream_task_ids


def test_parse_imports_nothing_heavy(registry: Path) -> None:
    code = textwrap.dedent(f"""
        import json, runpy, sys, time
        t = time.perf_counter()
        for f in ("sync_departments.py", "dispatch_reminders.py", "registry_errors.py"):
            try:
                runpy.run_path({str(ROOT / "dags")!r} + "/" + f)
            except ValueError as exc:  # the registry's broken.yaml, reported by registry_errors.py
                assert f == "registry_errors.py" and "broken.yaml" in str(exc), exc
        print(json.dumps({{"seconds": time.perf_counter() - t,
                          "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
    """)
    env = {**os.environ, "LR_REGISTRY_DIR": str(registry), "PYTHONPATH": str(ROOT / "include")}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=120,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["heavy"] == []


def test_bad_schedule_is_its_own_files_config_error(registry: Path) -> None:
    """Airflow's own cron error would stop the file that builds every department's DAG."""
    from airflow.dag_processing.dagbag import DagBag

    (registry / "broken.yaml").unlink()
    (registry / "gamma.yaml").write_text(
        GOOD.format(code="gamma") + '  sync: {schedule: "0 2 * *"}\n', encoding="utf-8"
    )
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    ((path, error),) = bag.import_errors.items()
    assert Path(path).name == "registry_errors.py"
    assert "gamma.yaml" in error and "source.sync.schedule" in error and "5 fields" in error
    assert "config-error" in bag.dags["sync_gamma"].tags
    assert "config-error" not in bag.dags["sync_alpha"].tags


def test_a_dag_airflow_refuses_breaks_only_its_department(registry: Path) -> None:
    from airflow.dag_processing.dagbag import DagBag

    (registry / "gamma.yaml").write_text(
        GOOD.format(code="gamma") + f"tags: [{'x' * 101}]\n", encoding="utf-8"
    )
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert {"sync_alpha", "sync_beta", "sync_gamma"} <= set(bag.dag_ids)
    dag = bag.dags["sync_gamma"]
    assert "config-error" in dag.tags
    assert "gamma.yaml" in dag.doc_md and "tag cannot be longer than 100" in dag.doc_md
    assert not any("sync_departments" in p for p in bag.import_errors)
