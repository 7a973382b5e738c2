"""A department's sync, stage by stage, in the order its data flows:

1. ``extract``  — read the department's extract in chunks (connectorx, or the driver), and what
                  else the run needs of the source (its licence numbers, the rows of duplicated
                  ones, renewal applications kept apart, its clock);
2. ``validate`` — every rule over every chunk (Great Expectations), duplicates decided, rejected
                  rows and warnings made ready;
3. ``compare``  — with the ledger: new licences, changed ones, unchanged ones (not written),
                  what rejected rows tell, what a full run no longer read;
4. ``load``     — the run's one transaction: batches loaded as they come, merged, committed.

Each stage takes the one before's output (``flow``) and imports no other stage; what the ledger
holds of the department is read once first (``ledger_state``) for validate (a full run skips
rows read exactly as the ledger holds them) and compare. ``plan`` comes before a run (its own
task), ``retire`` instead of one. :func:`run` reads top to bottom. While it works a run beats
(``liveness``: the next run closes one that stopped beating) and writes its load files in its
department's private folder (``workdir``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING

from licence_reminder import figures
from licence_reminder.sync import compare, extract, load, validate
from licence_reminder.sync.flow import Findings, PublishStats, RunResult, StageStats, SyncPlan
from licence_reminder.sync.ledger_state import LedgerState
from licence_reminder.sync.liveness import Heartbeat

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from licence_reminder.registry import Catalogue, Department

log = logging.getLogger(__name__)


def run(
    ledger: Engine,
    source: Engine,
    dept: Department,
    catalogue: Catalogue,
    plan: SyncPlan,
    *,
    today: dt.date,
) -> RunResult:
    """One department's run: a failure anywhere leaves the ledger as it was. The run beats while
    it works (:mod:`~licence_reminder.sync.liveness`)."""
    stats, findings = StageStats(), Findings()
    with Heartbeat(ledger, plan.run_id, dept.code):
        held = LedgerState.read(ledger, dept, catalogue, plan)
        extracted = extract.open_extract(source, dept, plan, stats=stats)
        validated = validate.validate(
            extracted, catalogue, held, today=today, stats=stats, findings=findings
        )
        compared = compare.compare(
            validated, extracted, held, ledger, dept, catalogue, plan, stats=stats
        )
        published, timings = load.load(
            compared,
            ledger,
            plan,
            applications=extracted.applications,
            stats=stats,
            today=today,
            validated_context=held.context if plan.mode == "full" else None,
        )
    log.info(
        "department %s: read, validated and compared in %.1f s (the ledger loading meanwhile), "
        "then %.1f s loading what was queued, %.1f s merging",
        dept.code,
        timings["produce"],
        timings["loading"],
        timings["merge"],
    )
    return RunResult(stats, published, findings, timings)


def take_figures(ledger: Engine, dept_code: str, published: PublishStats) -> None:
    """After a committed run (the sync task's next step, not part of :func:`run`): the
    department's summary figures, scoped to it (docs/adr/0503-summary-figures.md; a failure
    leaves them to the summary's live count, never fails the task) — unless the run changed
    nothing they count; its reminders and messages only if it cancelled some (the dispatch's end
    takes them otherwise)."""
    if any(dataclasses.astuple(published)):
        figures.refresh_quietly(
            ledger,
            [dept_code],
            parts=("ledger", "dispatch") if published.reminders_cancelled else ("ledger",),
        )
