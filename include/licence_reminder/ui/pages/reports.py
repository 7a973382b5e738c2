from fastapi import APIRouter
from licence_reminder.ui.web import Page
PAGE = Page("reports", "reports", lambda v, codes: False)
router = APIRouter()
