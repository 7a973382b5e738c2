from fastapi import APIRouter
from licence_reminder.ui.web import Page
PAGE = Page("delivery_log", "delivery_log", lambda v, codes: False)
router = APIRouter()
