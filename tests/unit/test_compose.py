"""docker-compose.yaml: the production shape. No Docker engine here, so the file is checked, and
kept in step with `make prod-check` (scripts/prod-check.py), which runs the same on the host."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_TEXT = (ROOT / "docker-compose.yaml").read_text(encoding="utf-8")
INFRA = {"postgres", "redis", "mariadb", "sms-simulator"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_TEXT)


@pytest.fixture(scope="module")
def services(compose: dict) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def prod_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prod_check", ROOT / "scripts" / "prod-check.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def common_env(compose: dict) -> dict[str, str]:
    return {k: str(v) for k, v in compose["x-airflow-common"]["environment"].items()}


def test_the_same_services_as_prod_check(services: dict, prod_check: ModuleType) -> None:
    assert set(services) == set(prod_check.AIRFLOW_SERVICES) | {"airflow-init"} | INFRA
    for name, argv in prod_check.AIRFLOW_SERVICES.items():
        assert services[name]["command"] == argv, name


def test_two_workers_each_named_and_health_checked_by_its_name(
    services: dict, prod_check: ModuleType
) -> None:
    workers = {n: s for n, s in services.items() if "worker" in n}
    assert len(workers) == 2
    for svc in workers.values():
        name = svc["command"][svc["command"].index("--celery-hostname") + 1].split("@")[0]
        assert f'-d "{name}@$${{HOSTNAME}}"' in svc["healthcheck"]["test"][1]


def test_init_prepares_the_folders_then_runs_prod_checks_init_steps(
    services: dict, prod_check: ModuleType
) -> None:
    init = services["airflow-init"]
    script = init["command"][1]
    assert init["user"] == "0:0" and init["entrypoint"] == "/bin/bash"
    # as the official file: the folders the services write, made and handed to the host's UID
    assert "mkdir -v -p /opt/airflow/{logs,dags,plugins,config}" in script
    assert 'chown -v -R "${AIRFLOW_UID}:0" /opt/airflow/{logs,dags,plugins,config}' in script
    steps = [
        line.strip() for line in script.splitlines() if line.strip().startswith("/entrypoint ")
    ]
    expected = [" ".join(f'"{a}"' if " " in a else a for a in argv) for argv in prod_check.INIT]
    assert [s.removeprefix("/entrypoint ") for s in steps if "version" not in s] == expected
    assert script.index("chown") < script.index("/entrypoint")


def test_a_production_auth_manager_whose_roles_and_admin_init_makes(
    compose: dict, prod_check: ModuleType
) -> None:
    """FAB with database users (ADR 0301), not the development SimpleAuthManager: its tables come
    with `airflow db migrate`, then the UI's roles and the administrator, whose password is read
    from a secret file and never given on a command line."""
    env = common_env(compose)
    assert (
        env["AIRFLOW__CORE__AUTH_MANAGER"]
        == "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"
    )
    assert not any("SIMPLE_AUTH_MANAGER" in key for key in env)
    steps = [" ".join(argv) for argv in prod_check.INIT]
    roles = steps.index("python -m licence_reminder.ui.roles --admin admin")
    assert steps.index("airflow db migrate") < roles
    assert not any("password" in step.lower() for step in steps)
    assert env["LR_UI_ADMIN_PASSWORD_FILE"] == "/run/secrets/airflow_admin_password"
    assert "airflow_admin_password" in prod_check.SECRET_SETTINGS


def test_the_same_settings_as_prod_check(compose: dict, prod_check: ModuleType) -> None:
    env = common_env(compose)
    secret_settings = {s for s in prod_check.SECRET_SETTINGS.values() if s}
    assert set(env) == set(prod_check.SETTINGS) | set(prod_check.PLACED) | secret_settings
    for key, value in prod_check.SETTINGS.items():
        assert env[key] == value, key
    # what only the check sets (a short heartbeat timeout, any sending hour) stays out of production
    assert not set(prod_check.CHECK_ONLY) & set(env)
    assert env["PYTHONPATH"] == "/opt/airflow/include"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0"


def test_every_secret_is_a_docker_secret_read_from_its_file(
    compose: dict, prod_check: ModuleType
) -> None:
    env = common_env(compose)
    mounted = set(compose["x-airflow-common"]["secrets"])
    assert mounted == set(prod_check.SECRET_SETTINGS)
    for name, setting in prod_check.SECRET_SETTINGS.items():
        assert compose["secrets"][name] == {"file": f"./secrets/{name}"}
        if setting:
            assert env[setting] == f"cat /run/secrets/{name}"
    path = '{"connections_file_path": "/run/secrets/airflow_connections.json"}'
    assert (
        env["AIRFLOW__SECRETS__BACKEND_KWARGS"]
        == env["AIRFLOW__WORKERS__SECRETS_BACKEND_KWARGS"]
        == path
    )


def test_no_secret_in_any_environment(services: dict) -> None:
    """Passwords, keys and connections (the gateway's secret with them) only in secret files."""
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            assert not key.startswith("AIRFLOW_CONN_"), (name, key)
            text = str(value)
            if (
                re.search(r"PASSWORD|SECRET|FERNET|SQL_ALCHEMY_CONN|RESULT_BACKEND", key)
                and not key.endswith(("_FILE", "_CMD"))
                and "SECRETS_BACKEND" not in key.replace("__", "_")
            ):
                pytest.fail(f"{name}: {key} holds a value; it belongs in a secret file")
            assert not re.search(r"://[^/@\s]+:[^/@\s]+@", text), (
                name,
                key,
            )  # no password in a URL
    for svc in ("postgres", "mariadb"):
        env = services[svc]["environment"]
        assert all(k.endswith("_FILE") for k in env if "PASSWORD" in k), svc


def test_the_uid_comes_from_the_host(compose: dict) -> None:
    assert compose["x-airflow-common"]["user"].startswith("${AIRFLOW_UID:?")
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    assert re.search(r"^AIRFLOW_UID=$", example, re.MULTILINE)  # not a number that looks right
    assert (
        "id -u" in example
        and "50000" not in re.findall(r"^AIRFLOW_UID=.*$", example, re.MULTILINE)[0]
    )


def test_env_example_lists_every_variable() -> None:
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", COMPOSE_TEXT))
    listed = set(re.findall(r"^([A-Z_]+)=", (ROOT / ".env.example").read_text(), re.MULTILINE))
    assert used and used <= listed, used - listed


def test_mounts_and_healthchecks(services: dict) -> None:
    for name, svc in services.items():
        if name.startswith("airflow-"):
            mounts = {v.split(":")[1] for v in svc["volumes"]}
            assert {
                "/opt/airflow/dags",
                "/opt/airflow/plugins",
                "/opt/airflow/include",
                "/opt/airflow/logs",
            } <= mounts, name
        if name != "airflow-init":
            assert "healthcheck" in svc, name
        for dep in svc.get("depends_on") or {}:
            assert dep in services, (name, dep)


def test_mariadb_settings(services: dict) -> None:
    cmd = " ".join(services["mariadb"]["command"])
    assert "--local-infile=1" in cmd and "utf8mb4" in cmd
    assert "--innodb-buffer-pool-size=1G" in cmd


def test_image_installs_what_prod_check_installs() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", dockerfile, re.MULTILINE)
    assert "-r /requirements-prod.txt" in dockerfile and "pip check" in dockerfile
    prod = (ROOT / "requirements-prod.txt").read_text(encoding="utf-8")
    assert "-r requirements.txt" in prod and "apache-airflow-providers-celery==" in prod
    assert "apache-airflow==3.3.2" in (ROOT / "requirements.txt").read_text()
    assert "requirements-prod.txt" in (ROOT / "Makefile").read_text()


def test_deploy_doc_gives_the_host_procedure_prod_check_follows(prod_check: ModuleType) -> None:
    doc = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for argv in [
        *prod_check.INIT,
        *(["airflow", *a] for a in prod_check.AIRFLOW_SERVICES.values()),
    ]:
        shown = " ".join(f'"{a}"' if " " in a else a for a in argv)
        assert shown in doc, shown
    for key in [
        *prod_check.SETTINGS,
        *prod_check.PLACED,
        *(s for s in prod_check.SECRET_SETTINGS.values() if s),
    ]:
        assert key in doc, key
