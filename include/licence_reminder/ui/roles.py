"""Create the UI's roles, the first administrator (and, for a demo or tests, its users) in the
FAB auth manager.

    python -m licence_reminder.ui.roles [--dept CODE ...] [--admin NAME] [--demo-users FILE]

Idempotent: each ``lr_*`` role ends up holding exactly the permissions
:func:`licence_reminder.ui.access.role_specs` gives it (missing ones added, stray ones removed),
for every department in the registry (``LR_REGISTRY_DIR``) plus any ``--dept``. Other roles
(Airflow's Admin, Op, Viewer, ...) are left alone. ``--admin NAME`` creates that user, if it does
not exist, with Airflow's ``Admin`` role and ``lr_operations`` and the password in the secret file
``--admin-password-file`` (default: ``LR_UI_ADMIN_PASSWORD_FILE``) — never on a command line or in
the environment; an existing user keeps its password. ``--demo-users FILE`` also creates one user
per role (``ops``, ``auditor``, ``reviewer_<code>``, ``callstaff_<code>``, and ``admin``), with
passwords generated once and kept in FILE (mode 0600): a later run keeps them. Needs Airflow
configured with the FAB auth manager and its metadata database migrated (``airflow db migrate``).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from licence_reminder.ui.access import (
    AIRFLOW_PLUGINS_RESOURCE,
    AUDITOR,
    FAB_ACTIONS,
    OPERATIONS,
    RoleSpec,
    call_staff_role,
    reviewer_role,
    role_specs,
)

ROLE_PREFIX = "lr_"


@dataclass(frozen=True)
class DemoUser:
    username: str
    roles: tuple[str, ...]
    who: str


#: an administrator's roles: Airflow's and the product's operations
ADMIN_ROLES = ("Admin", OPERATIONS)


def demo_users(dept_codes: list[str]) -> list[DemoUser]:
    users = [
        DemoUser("admin", ADMIN_ROLES, "Airflow administrator and operations"),
        DemoUser(
            "ops", ("Op", OPERATIONS), "data-platform team on duty: every page, Airflow's DAGs"
        ),
        DemoUser("auditor", (AUDITOR,), "auditor: every page, read-only, masked"),
    ]
    for code in sorted(dept_codes):
        users.append(
            DemoUser(
                f"reviewer_{code}",
                (reviewer_role(code),),
                f"department {code}: its quarterly review and data-quality reports",
            )
        )
        users.append(
            DemoUser(
                f"callstaff_{code}", (call_staff_role(code),), f"department {code}: its call list"
            )
        )
    return users


@dataclass
class Outcome:
    roles_created: list[str] = field(default_factory=list)
    granted: list[str] = field(default_factory=list)
    revoked: list[str] = field(default_factory=list)
    users_created: list[str] = field(default_factory=list)
    admin: str = ""


def _fab_permissions(spec: RoleSpec) -> set[tuple[str, str]]:
    perms = {(FAB_ACTIONS[method], resource) for method, resource in spec.grants}
    # the pages' entry in the UI's navigation, and the UI itself (Airflow gives every role
    # "Website" when its API server starts: left out here, each run would take it back)
    perms |= {("can_read", AIRFLOW_PLUGINS_RESOURCE), ("can_read", "Website")}
    return perms


@dataclass(frozen=True)
class Admin:
    username: str
    password: str


def apply(
    dept_codes: list[str], *, users_file: Path | None = None, admin: Admin | None = None
) -> Outcome:
    """Bring the roles (the administrator, the demo users) in line; returns what changed."""
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    out = Outcome()
    specs = role_specs(dept_codes)
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        for spec in specs:
            role = sm.find_role(spec.name)
            if role is None:
                role = sm.add_role(spec.name)
                out.roles_created.append(spec.name)
            wanted = _fab_permissions(spec)
            have = {(p.action.name, p.resource.name): p for p in role.permissions}
            for action, resource in sorted(wanted - set(have)):
                sm.add_permission_to_role(role, sm.create_permission(action, resource))
                out.granted.append(f"{spec.name}: {action} on {resource}")
            for key in sorted(set(have) - wanted):
                sm.remove_permission_from_role(role, have[key])
                out.revoked.append(f"{spec.name}: {key[0]} on {key[1]}")
        if admin is not None:
            out.admin = _admin(sm, admin)
        if users_file is not None:
            out.users_created = _demo_users(sm, dept_codes, users_file)
    return out


def _roles(sm: Any, names: tuple[str, ...]) -> list[Any]:
    roles = []
    for name in names:
        role = sm.find_role(name)
        if role is None:
            raise SystemExit(
                f"role {name!r} does not exist: run `airflow db migrate` with the "
                "FAB auth manager configured first (it creates Airflow's own roles)"
            )
        roles.append(role)
    return roles


def _admin(sm: Any, admin: Admin) -> str:
    """Create the administrator once; an existing one keeps its password (changed in the UI or
    with ``airflow users reset-password``) and gets any of ``ADMIN_ROLES`` it lacks."""
    roles = _roles(sm, ADMIN_ROLES)
    existing = sm.find_user(username=admin.username)
    if existing is None:
        if (
            sm.add_user(
                username=admin.username,
                first_name=admin.username,
                last_name="administrator",
                email=f"{admin.username}@licence-reminder.invalid",
                role=roles,
                password=admin.password,
            )
            is None
        ):
            raise SystemExit(f"the auth manager refused to create the user {admin.username!r}")
        return f"administrator {admin.username!r} created"
    missing = [r for r in roles if r not in existing.roles]
    if missing:
        existing.roles = [*existing.roles, *missing]
        sm.update_user(existing)
    return f"administrator {admin.username!r} exists (password unchanged)" + (
        f"; given {', '.join(r.name for r in missing)}" if missing else ""
    )


def read_admin_password(path: Path) -> str:
    try:
        password = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SystemExit(f"--admin: cannot read the password file {path}: {exc.strerror}") from None
    if len(password) < 12:
        raise SystemExit(f"--admin: the password in {path} is shorter than 12 characters")
    return password


def _demo_users(sm: Any, dept_codes: list[str], users_file: Path) -> list[str]:
    stored: dict[str, str] = json.loads(users_file.read_text()) if users_file.exists() else {}
    created = []
    for user in demo_users(dept_codes):
        password = stored.setdefault(user.username, secrets.token_urlsafe(12))
        roles = _roles(sm, user.roles)
        existing = sm.find_user(username=user.username)
        if existing is None:
            sm.add_user(
                username=user.username,
                first_name=user.username,
                last_name="demo",
                email=f"{user.username}@licence-reminder.invalid",
                role=roles,
                password=password,
            )
            created.append(user.username)
        else:
            existing.roles = roles
            sm.update_user(existing)
            sm.reset_password(existing.id, password)
    users_file.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(users_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(stored, f, indent=2)
    return created


def registry_codes() -> list[str]:
    from licence_reminder.config import Settings
    from licence_reminder.registry import scan_registry

    return [e.code for e in scan_registry(Settings.from_env().registry_dir)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="licence_reminder.ui.roles",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dept", action="append", default=[], help="a department code beyond the registry's"
    )
    parser.add_argument(
        "--admin", metavar="NAME", help="create this administrator if it does not exist"
    )
    parser.add_argument(
        "--admin-password-file",
        type=Path,
        metavar="FILE",
        default=os.environ.get("LR_UI_ADMIN_PASSWORD_FILE") or None,
        help="the administrator's password, alone in a secret file "
        "(default: LR_UI_ADMIN_PASSWORD_FILE)",
    )
    parser.add_argument(
        "--demo-users",
        type=Path,
        metavar="FILE",
        help="also create the demo users, their passwords kept in FILE",
    )
    args = parser.parse_args(argv)
    admin = None
    if args.admin:
        if args.admin_password_file is None:
            parser.error("--admin needs --admin-password-file or LR_UI_ADMIN_PASSWORD_FILE")
        admin = Admin(args.admin, read_admin_password(args.admin_password_file))
    codes = sorted(set(registry_codes()) | set(args.dept))
    out = apply(codes, users_file=args.demo_users, admin=admin)
    print(
        f"UI roles for departments {', '.join(codes) or '(none)'}: "
        f"{len(out.roles_created)} created, {len(out.granted)} permissions granted, "
        f"{len(out.revoked)} revoked"
    )
    for line in out.granted + out.revoked:
        print(f"  {line}")
    if out.admin:
        print(out.admin)
    if args.demo_users:
        print(f"demo users: {len(out.users_created)} created; logins in {args.demo_users}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
