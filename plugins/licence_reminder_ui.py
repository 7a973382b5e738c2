"""Airflow plugin: the licence-reminder pages (Today, Delivery log, Review, Data quality, Call list).

Wiring only: the app, its pages and their access checks live in ``licence_reminder.ui``
(``include/``). The pages are served by the API server under ``/licence-reminder/`` and listed
in the UI's navigation; each checks the logged-in user's roles itself (docs/ui.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from licence_reminder.ui.app import create_app
from licence_reminder.ui.web import URL_PREFIX


class LicenceReminderUiPlugin(AirflowPlugin):
    name = "licence_reminder_ui"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Licence reminder pages"}
    ]
    external_views: ClassVar[list[dict[str, Any]]] = [
        {
            "name": "证照到期提醒 Licence reminders",
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "destination": "nav",
            "url_route": "licence-reminder",
            "category": "browse",
        }
    ]
