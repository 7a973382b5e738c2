"""docker-compose.yaml: the production shape (no Docker engine here, so the file is checked)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-worker",
           "airflow-triggerer", "airflow-init"]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_TEXT)["services"]


def test_services(services: dict) -> None:
    assert set(AIRFLOW + ["postgres", "redis", "mariadb", "sms-simulator"]) <= set(services)


def test_executor_metadata_broker(services: dict) -> None:
    env = services["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
    assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://") and "@redis:" in env["AIRFLOW__CELERY__BROKER_URL"]
    assert env["PYTHONPATH"] == "/opt/airflow/include"
    assert "@mariadb:3306/licence_ledger" in env["AIRFLOW_CONN_LICENCE_LEDGER"]


def test_commands(services: dict) -> None:
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert services["airflow-dag-processor"]["command"] == "dag-processor"
    assert services["airflow-worker"]["command"] == "celery worker"
    init = "\n".join(services["airflow-init"]["command"])
    assert "airflow db migrate" in init and "pools set sms_gateway" in init
    assert "licence_reminder.cli db upgrade" in init


def test_mounts_and_healthchecks(services: dict) -> None:
    for name in AIRFLOW:
        mounts = {v.split(":")[1] for v in services[name]["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= mounts, name
    for name, svc in services.items():
        if name != "airflow-init":
            assert "healthcheck" in svc, name
        for dep in (svc.get("depends_on") or {}):
            assert dep in services, (name, dep)


def test_mariadb_settings(services: dict) -> None:
    cmd = " ".join(services["mariadb"]["command"])
    assert "--local-infile=1" in cmd and "utf8mb4" in cmd
    assert "--innodb-buffer-pool-size=1G" in cmd


def test_image_versions() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.M)
    assert "requirements.txt" in dockerfile
    assert "apache-airflow==3.3.2" in (ROOT / "requirements.txt").read_text()


def test_no_literal_secrets(services: dict) -> None:
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if re.search(r"PASSWORD|SECRET|KEY|AIRFLOW_CONN_", key) and key not in {"LR_SIM_ALIYUN_KEY"}:
                text = str(value)
                if "://" in text and "@" in text:  # URL: the password part must be substituted
                    userinfo = text.split("://", 1)[1].split("@", 1)[0]
                    assert ":" not in userinfo or "${" in userinfo, (name, key)
                elif key.startswith("AIRFLOW_CONN_"):
                    assert '"password": "${' in text, (name, key)
                else:
                    assert text.startswith("${"), (name, key)


def test_env_example_lists_every_variable() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE_TEXT))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert used and used <= listed, used - listed
