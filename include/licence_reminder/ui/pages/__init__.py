"""The UI's pages, in navigation order. Adding one: a module here with ``PAGE`` and ``router``,
its template in ``include/templates/ui/``, its SQL in ``include/sql/ui_*.sql``, and a line below."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import APIRouter

    from licence_reminder.ui.web import Page


def _modules() -> list:  # type: ignore[type-arg]
    from licence_reminder.ui.pages import call_list, delivery_log, reports, review, today

    return [today, delivery_log, review, reports, call_list]


def routers() -> list[APIRouter]:
    return [m.router for m in _modules()]


def __getattr__(name: str) -> list[Page]:
    if name == "PAGES":
        return [m.PAGE for m in _modules()]
    raise AttributeError(name)
