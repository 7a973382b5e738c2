"""Where a run's load files are written: a private folder of its department, under the product's
own work folder, never the machine's shared ``/tmp``.

``LR_WORK_DIR`` (default ``var/work`` in the project) / ``sync`` / ``<department>`` / ``run-…``:
every level is created with mode 0700, the department's folder is made 0700 whatever it was. The
files hold the rows of the run's tables exactly as they are loaded (identity numbers masked beside
their digests, mobiles as the ledger keeps them) and each is removed once loaded; the run's folder
goes at the end of the run. A run that is killed cannot remove its own: the department's next run
on the machine removes what is left in the department's folder before it writes anything —
unless a run of the department is still working there, which holds a shared lock on the folder
(``flock``, released by the kernel when its process dies, however it dies).
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO

from licence_reminder.config import PROJECT_ROOT
from licence_reminder.errors import PermanentError

log = logging.getLogger(__name__)

PRIVATE = 0o700
#: MariaDB's LOAD DATA takes the file's name only as a literal (rows.load checks it again)
_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
_LOCK = ".lock"


def work_dir() -> Path:
    """The product's work folder (``LR_WORK_DIR``)."""
    return Path(os.environ.get("LR_WORK_DIR") or PROJECT_ROOT / "var" / "work")


def department_folder(dept_code: str) -> Path:
    return work_dir() / "sync" / dept_code


class RunFolder:
    """A run's private folder: :meth:`open` makes it (after removing what killed runs of the
    department left), :meth:`close` removes it."""

    def __init__(self, dept_code: str) -> None:
        self.dept_code = dept_code
        self.path: Path | None = None
        self._lock: IO[str] | None = None

    def open(self) -> Path:
        folder = department_folder(self.dept_code).absolute()
        if not set(str(folder)) <= _SAFE:
            raise PermanentError(
                f"LR_WORK_DIR: the load files' folder {folder} may hold only letters, "
                "digits and _ . / - (the ledger server takes its name as SQL text)"
            )
        try:
            # what holds the work folder may not exist yet either (``var/`` of a fresh clone)
            folder.parent.parent.parent.mkdir(parents=True, exist_ok=True)
            for level in (folder.parent.parent, folder.parent, folder):
                level.mkdir(mode=PRIVATE, exist_ok=True)
            folder.chmod(PRIVATE)
            self._lock = open(folder / _LOCK, "a", encoding="utf-8")  # noqa: SIM115 - held for the run
            if _try_lock(self._lock, fcntl.LOCK_EX):
                _remove_leftovers(folder, self.dept_code)
            else:
                log.info(
                    "department %s: another run of the department is working in %s: its files stay",
                    self.dept_code,
                    folder,
                )
            fcntl.flock(self._lock, fcntl.LOCK_SH)
            self.path = Path(tempfile.mkdtemp(prefix="run-", dir=folder))
        except OSError as exc:
            self.close()
            raise PermanentError(
                f"department {self.dept_code}: LR_WORK_DIR: cannot prepare the load "
                f"files' folder {folder}: {exc.strerror}"
            ) from exc
        return self.path

    def close(self) -> None:
        if self.path is not None:
            shutil.rmtree(self.path, ignore_errors=True)
            self.path = None
        if self._lock is not None:
            self._lock.close()  # releases the lock
            self._lock = None


def _try_lock(f: IO[str], how: int) -> bool:
    try:
        fcntl.flock(f, how | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _remove_leftovers(folder: Path, dept_code: str) -> None:
    left = [p for p in folder.iterdir() if p.name != _LOCK]
    if not left:
        return
    files = sum(1 for p in left for _ in (p.rglob("*") if p.is_dir() else [p]))
    for p in left:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
    log.warning(
        "department %s: removed %d load file(s) a run that did not finish left in %s",
        dept_code,
        files,
        folder,
    )
