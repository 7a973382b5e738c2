"""Airflow plugin: the receiver of delivery reports the SMS providers push (Alibaba SmsReport,
Tencent's status callback, the generic platform's callback), served by the API server under
``/lr-receipts``.

Wiring only: the app, its allow-list and token/signature checks live in
``licence_reminder.receipts_api`` and ``licence_reminder.pushed`` (``include/``). A plugin's
endpoints are not behind Airflow's login; each push is checked by its receiver's own means
(docs/pushed-reports.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

from airflow.plugins_manager import AirflowPlugin
from licence_reminder.receipts_api import URL_PREFIX, create_app


class LicenceReminderReceiptsPlugin(AirflowPlugin):
    name = "licence_reminder_receipts"
    fastapi_apps: ClassVar[list[dict[str, Any]]] = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "Licence reminder delivery reports"}
    ]
