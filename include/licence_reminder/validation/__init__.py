"""Validation of canonical licence records: pure rules, the GX suite, and the DBA report.

Import the submodules directly (``from licence_reminder.validation.rules import parse_date``):
this package imports nothing heavy, so DAG files stay cheap to parse.
"""
