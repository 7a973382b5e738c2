# The product's Airflow image: the official 3.3.2 image plus the project's pinned requirements and
# the production extras (Celery provider, asyncpg for the PostgreSQL metadata DB), as make
# prod-check installs them on the host.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt requirements-prod.txt /
RUN pip install --no-cache-dir -r /requirements-prod.txt && pip check
ENV PYTHONPATH=/opt/airflow/include
