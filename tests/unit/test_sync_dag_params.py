"""The sync DAGs' ``full`` param: added to each DAG after it is built (dags/sync_departments.py
checks it once rather than in every DAG), it must still be the DAG's and every task's."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bag(good_registry: Path):  # type: ignore[no-untyped-def]
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags" / "sync_departments.py"))


def test_every_sync_dag_and_task_has_the_full_param(bag) -> None:  # type: ignore[no-untyped-def]
    assert not bag.import_errors
    for dag_id in ("sync_alpha", "sync_beta"):
        dag = bag.dags[dag_id]
        full = dag.params.get_param("full")
        assert (full.value, full.schema, full.source) == (False, {"type": "boolean"}, None)
        assert full.description == "Full reconciliation this run"
        assert dag.params.validate() == {"full": False}
        for task in dag.tasks:
            own = task.params.get_param("full")
            assert (own.value, own.schema, own.source) == (False, {"type": "boolean"}, "dag")
            assert own is not full  # a copy: a run's value for one task does not leak to the DAG
            assert task.multiple_outputs is True


def test_the_full_param_is_not_shared_between_dags(bag) -> None:  # type: ignore[no-untyped-def]
    alpha, beta = bag.dags["sync_alpha"], bag.dags["sync_beta"]
    assert alpha.params.get_param("full") is not beta.params.get_param("full")
