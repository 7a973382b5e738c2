"""Department files that do not validate, reported as an Airflow import error of this file.

Airflow reports import errors per Python file and marks every DAG of that file stale, so raising
in ``sync_departments.py`` would stop every department. This file defines no DAG: its import
error lists each bad registry file (path, field, what is wrong) in the UI's import-error banner and
stops nobody. Each bad file also gets its ``sync_<code>`` DAG tagged ``config-error``.
"""

from __future__ import annotations

from licence_reminder.config import Settings
from licence_reminder.registry import RegistryFilesInvalid, scan_registry

_broken = [e.error for e in scan_registry(Settings.from_env().registry_dir) if e.error]
if _broken:
    raise RegistryFilesInvalid(_broken)
