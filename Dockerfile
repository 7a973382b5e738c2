# The product's Airflow image: the official 3.3.2 image plus the project's pinned requirements.
FROM apache/airflow:3.3.2-python3.11
COPY requirements.txt /requirements.txt
RUN pip install --no-cache-dir -r /requirements.txt && pip check
ENV PYTHONPATH=/opt/airflow/include
