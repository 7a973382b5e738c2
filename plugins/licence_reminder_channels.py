"""Airflow plugin: the channels API (consent intake for the mini-program, in-system prompts for
the departments' business systems), served by the API server under ``/licence-reminder-channels``.

Wiring only: the app and its token checks live in ``licence_reminder.channels.api`` (``include/``).
A plugin's endpoints are not behind Airflow's login; each route checks the caller's token itself
(docs/channels.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from licence_reminder.channels.api import URL_PREFIX, create_app


class LicenceReminderChannelsPlugin(AirflowPlugin):
    name = "licence_reminder_channels"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Licence reminder channels API"}
    ]
