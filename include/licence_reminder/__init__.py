"""Licence expiry reminder mechanism (证照到期提醒工作机制).

Plain, typed domain code: it imports and tests without a running Airflow. DAG files in ``dags/``
only wire it. Heavy modules (pandas, Great Expectations, SQLAlchemy engines) are imported inside
the functions that need them, never at module top level of anything a DAG file imports.
"""
