"""A run's sign of life, and what the next run of its department makes of a run that gave none.

A run that is killed (SIGKILL, the worker's machine lost) or that loses its ledger server cannot
record its failure: its ``sync_run`` row would stay ``running`` for ever. While it works, a run
beats — ``sync_run.heartbeat_at``, every :data:`BEAT_SECONDS`, from a thread and a connection of
its own, outside the run's transaction (whose writes nobody sees before the commit). The next run
of the department closes, before it starts, each of the department's ``running`` rows whose last
beat (or start, before the first beat) is older than :data:`STALE_AFTER` as failed: "no heartbeat
since …". A run that is alive beats twenty times within that limit, so a run of the department
still working elsewhere (a manual run beside the scheduled one) is left alone.

SQLite's ledger (the demo, ``airflow dags test``) does not beat: its one writer at a time is the
run's own transaction, which a second connection's write would wait for until it commits.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from typing import TYPE_CHECKING, Self

from licence_reminder.config import local_now
from licence_reminder.db import dialect_of, sql
from licence_reminder.errors import classify_db_error

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

BEAT_SECONDS = 30.0
STALE_AFTER = dt.timedelta(minutes=10)


class Heartbeat:
    """Beats for ``run_id`` from the moment it is entered until it is left."""

    def __init__(self, ledger: Engine, run_id: str, dept_code: str) -> None:
        self.ledger, self.run_id, self.dept_code = ledger, run_id, dept_code
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name="sync-heartbeat", daemon=True)
        self._failed = False

    def __enter__(self) -> Self:
        if dialect_of(self.ledger).name != "sqlite":
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive():
            self._stop.set()
            self._thread.join()

    def _beat(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        while True:
            try:
                with self.ledger.begin() as conn:
                    conn.execute(
                        sql("sync_run_heartbeat", conn), {"run_id": self.run_id, "now": local_now()}
                    )
            except SQLAlchemyError as exc:
                # the run meets the same ledger itself and fails with the cause: one line here
                if not self._failed:
                    log.warning(
                        "%s",
                        classify_db_error(
                            exc,
                            what=f"department {self.dept_code}: ledger database: the run's heartbeat",
                        ),
                    )
                self._failed = True
            if self._stop.wait(BEAT_SECONDS):
                return


def close_stale(conn: Connection, dept_code: str, *, run_id: str, now: dt.datetime) -> list[str]:
    """Close the department's runs but ``run_id`` that stopped beating as failed; their ids."""
    stale_before = now - STALE_AFTER
    found = conn.execute(
        sql("sync_run_stale", conn),
        {"dept_code": dept_code, "run_id": run_id, "stale_before": stale_before},
    ).all()
    closed = []
    for stale_run_id, last_seen in found:
        error = (
            f"no heartbeat since {last_seen}: the run's process was killed or lost the ledger "
            f"database before it could record how it ended; closed by run {run_id}"
        )
        if conn.execute(
            sql("sync_run_close_stale", conn),
            {
                "stale_run_id": stale_run_id,
                "now": now,
                "error": error,
                "stale_before": stale_before,
            },
        ).rowcount:
            log.warning("department %s: run %s %s", dept_code, stale_run_id, error)
            closed.append(stale_run_id)
    return closed
