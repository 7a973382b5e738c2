"""One sync DAG per department in the registry: ``sync_<code>``.

Extract the department's licence records with its own SQL, validate them (Great Expectations)
and merge what changed into the unified ledger, all in one transaction of the ledger: a run that
fails leaves the ledger as it was; once its retries are spent, it is alerted (e-mail, group robot:
``licence_reminder.alerts``). Rejected rows go to quarantine with every reason; a
data-quality report is written for the department's DBA.

Parsing this file reads only the registry's YAML files; a bad file breaks only its own DAG.
"""

from __future__ import annotations

import datetime as dt

# ``task`` is a lazy attribute of airflow.sdk: naming its module here (it loads the standard
# provider's @task too) makes the DAG processor import it once, before it forks each parse
# ([dag_processor] parsing_pre_import_modules), instead of every parse importing it again
# (about 30 ms of CPU a parse: docs/benchmarks.md, DAG parse)
import airflow.sdk.definitions.decorators  # noqa: F401
import pendulum
from airflow.sdk import DAG, Asset, Param, task
from licence_reminder.config import Settings, city_zone, run_day
from licence_reminder.registry import RegistryEntry, RegistryError, scan_registry

TZ = city_zone()
START = pendulum.datetime(2026, 1, 1, tz=TZ)


def _full_param() -> Param:
    return Param(False, type="boolean", description="Full reconciliation this run")


# Checked once here, not by each DAG: DAG(params=...) checks every param's default against its
# JSON schema, and jsonschema checks the schema itself each time first (~0.5 ms a DAG, for a param
# that is the same in every department).
_full_param().resolve()


def _doc(entry: RegistryEntry) -> str:
    d = entry.department
    assert d is not None
    return (
        f"# {d.name} ({d.code}) — licence sync\n\n{__doc__}\n\n"
        f"- region: `{d.region_code}`\n- source connection: `{d.source.conn_id}`\n"
        f"- mode: `{d.source.sync.mode}`, full reconciliation on ISO weekday "
        f'`{d.source.sync.full_reconcile_weekday}`; trigger with `{{"full": true}}` for one now\n'
        f"- data contact: {d.contact.name} {d.contact.phone or ''}\n"
    )


def build_sync_dag(entry: RegistryEntry) -> DAG:
    dept = entry.department
    assert dept is not None
    code = dept.code

    def alert_failed(context) -> None:  # type: ignore[no-untyped-def]
        from licence_reminder.tasks import alert_sync_failed

        alert_sync_failed(code, context)

    with DAG(
        dag_id=dept.dag_id,
        description=f"Sync {dept.name} licences into the ledger",
        schedule=dept.source.sync.schedule,
        start_date=START,
        catchup=False,
        max_active_runs=1,
        tags=["licence-reminder", "sync", f"region:{dept.region_code}", *dept.tags],
        default_args={
            "retries": 3,
            "retry_delay": dt.timedelta(minutes=5),
            "retry_exponential_backoff": True,
            "on_failure_callback": alert_failed,
            "execution_timeout": dt.timedelta(seconds=dept.source.sync.timeout_seconds * 2),
        },
        doc_md=_doc(entry),
    ) as dag:
        # before the tasks, which each take a copy of the DAG's params; checked once, above
        dag.params["full"] = _full_param()

        # multiple_outputs as Airflow would infer it from ``-> dict``: given, it is not inferred by
        # evaluating the annotation for each task of each department
        @task(task_id="start_run", multiple_outputs=True)
        def start_run(**context) -> dict:
            from licence_reminder.tasks import sync_start

            return sync_start(
                code,
                run_id=context["run_id"],
                logical_date=run_day(context),
                force_full=bool(context["params"].get("full")),
            )

        @task(
            task_id="extract_validate_publish",
            multiple_outputs=True,
            outlets=[Asset(name=f"ledger_{code}", uri=f"ledger://licence/{code}")],
        )
        def extract_validate_publish(plan: dict, **context) -> dict:
            from licence_reminder.tasks import sync_department

            return sync_department(code, plan, today=run_day(context))

        extract_validate_publish(start_run())
    return dag


def build_broken_dag(entry: RegistryEntry) -> DAG:
    """A registry file that does not validate: its DAG shows why and fails without retrying."""
    message = str(entry.error)
    with DAG(
        dag_id=f"sync_{entry.code}",
        schedule=None,
        start_date=START,
        catchup=False,
        tags=["licence-reminder", "sync", "config-error"],
        doc_md=f"# Registry file does not validate\n\n```\n{message}\n```\n",
    ) as dag:

        @task(task_id="config_error", retries=0)
        def config_error() -> None:
            from airflow.sdk.exceptions import AirflowFailException

            raise AirflowFailException(message)

        config_error()
    return dag


_entries = scan_registry(Settings.from_env().registry_dir)
_working = {e.department.dag_id for e in _entries if e.department}
for _entry in _entries:
    if _entry.department is None and f"sync_{_entry.code}" in _working:
        continue  # a stray second file (dept.yml beside dept.yaml): an import error, not a broken DAG
    try:
        _dag = build_sync_dag(_entry) if _entry.department else build_broken_dag(_entry)
    except Exception as _exc:  # noqa: BLE001 - a value Airflow refuses though the file validated
        _dag = build_broken_dag(
            RegistryEntry(
                _entry.path,
                None,
                RegistryError(
                    _entry.path,
                    [f"Airflow cannot build this department's DAG: {type(_exc).__name__}: {_exc}"],
                ),
            )
        )
    globals()[_dag.dag_id] = _dag
