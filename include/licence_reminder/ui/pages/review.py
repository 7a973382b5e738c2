from fastapi import APIRouter
from licence_reminder.ui.web import Page
PAGE = Page("review", "review", lambda v, codes: False)
router = APIRouter()
