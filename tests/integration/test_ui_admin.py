"""The first administrator of the FAB auth manager, made by the roles script from a secret file
(`python -m licence_reminder.ui.roles --admin NAME`, what airflow-init and make prod-check run;
docs/adr/0301-ui-auth-manager-and-roles.md): against a real FAB metadata database of its own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

#: logs in through FAB's security manager, as its login view does (in a request); prints the
#: user's roles, or null when the login is refused
LOGIN = """
import json, sys
from flask import current_app
from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder
with get_application_builder() as appbuilder, current_app.test_request_context():
    user = appbuilder.sm.auth_user_db(sys.argv[1], sys.argv[2])
    print(json.dumps(None if user is None else sorted(r.name for r in user.roles)))
"""


@pytest.fixture(scope="module")
def fab_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    home = tmp_path_factory.mktemp("fab-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "LR_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        PYTHONPATH=str(ROOT / "include"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__AUTH_MANAGER="airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{home}/airflow.db",
    )
    out = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return env


def roles(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "licence_reminder.ui.roles", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def login(env: dict[str, str], user: str, password: str) -> list[str] | None:
    out = subprocess.run(
        [sys.executable, "-c", LOGIN, user, password],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_admin_from_a_secret_file_created_once(fab_home: dict[str, str], tmp_path: Path) -> None:
    refused = roles(fab_home, "--admin", "admin")
    assert refused.returncode != 0 and "LR_UI_ADMIN_PASSWORD_FILE" in refused.stderr

    secret = tmp_path / "airflow_admin_password"
    secret.write_text("short")
    too_short = roles({**fab_home, "LR_UI_ADMIN_PASSWORD_FILE": str(secret)}, "--admin", "admin")
    assert too_short.returncode != 0 and "shorter than 12" in too_short.stderr + too_short.stdout

    first, second = "first-password-0123456789", "second-password-0123456789"
    secret.write_text(first + "\n")  # a file written by hand ends with a newline
    made = roles({**fab_home, "LR_UI_ADMIN_PASSWORD_FILE": str(secret)}, "--admin", "admin")
    assert made.returncode == 0, made.stderr[-2000:]
    assert "administrator 'admin' created" in made.stdout
    assert first not in made.stdout + made.stderr
    assert login(fab_home, "admin", first) == ["Admin", "lr_operations"]

    # a later init must not undo a password the administrator has since changed
    secret.write_text(second)
    again = roles(fab_home, "--admin", "admin", "--admin-password-file", str(secret))
    assert again.returncode == 0, again.stderr[-2000:]
    assert "exists (password unchanged)" in again.stdout
    assert login(fab_home, "admin", first) == ["Admin", "lr_operations"]
    assert login(fab_home, "admin", second) is None
