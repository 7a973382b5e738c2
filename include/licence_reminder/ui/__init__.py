"""Pages in the Airflow UI for the people who run the mechanism (the ``licence_reminder_ui`` plugin).

``web`` builds the FastAPI app and its shared layout, ``auth`` reads the logged-in Airflow user,
``access`` says which resources each page asks the auth manager about and which roles hold them,
``roles`` creates those roles (and demo users) with the FAB auth manager, ``pages`` holds one
module per page. Queries are SQL files (``include/sql/ui_*.sql``), values bound.
"""
