"""Who may see which page: resources the auth manager is asked about, and the roles that hold them.

The plugin never reads role names. For every page it asks the deployment's auth manager one
question through Airflow's public interface, ``is_authorized_custom_view(method, resource_name,
user)``: may this user GET (read) or POST (act on) this resource? A department-scoped page asks
about the city-wide resource first (operations, auditors), then about each department's own one
(a reviewer, a call-staff member). With the FAB auth manager the resources are FAB resources and
the roles below hold them as permissions (``python -m licence_reminder.ui.roles`` creates both);
another auth manager maps the same names its own way (docs/adr/0301-ui-auth-manager-and-roles.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

PREFIX = "Licence Reminder"

TODAY = f"{PREFIX}: Today"
DELIVERY_LOG = f"{PREFIX}: Delivery Log"
#: department-scoped families: the city-wide resource is the family name itself
REVIEW = f"{PREFIX}: Review"
DQ_REPORTS = f"{PREFIX}: DQ Reports"
CALL_LIST = f"{PREFIX}: Call List"
DEPARTMENT_FAMILIES = (REVIEW, DQ_REPORTS, CALL_LIST)

READ = "GET"
ACT = "POST"

#: FAB's action for each method (Airflow maps GET to can_read and POST to can_create)
FAB_ACTIONS = {READ: "can_read", ACT: "can_create"}
#: Airflow's own resource a user needs to see plugin pages listed in the UI's navigation
AIRFLOW_PLUGINS_RESOURCE = "Plugins"

OPERATIONS = "lr_operations"
AUDITOR = "lr_auditor"


def scoped(family: str, dept_code: str) -> str:
    """The resource of one department within a family (``Licence Reminder: Review scjgj``)."""
    return f"{family} {dept_code}"


def reviewer_role(dept_code: str) -> str:
    return f"lr_reviewer_{dept_code}"


def call_staff_role(dept_code: str) -> str:
    return f"lr_call_staff_{dept_code}"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    #: (method, resource) pairs
    grants: frozenset[tuple[str, str]]
    description: str


def role_specs(dept_codes: Iterable[str]) -> list[RoleSpec]:
    """Every role of the UI's users for these departments, with exactly what each may do.

    - operations: every page, every department, and acting on the call list;
    - auditor: every page, every department, read-only (masked like everyone else);
    - department reviewer: its own department's quarterly review and data-quality reports;
    - call staff: its own department's call list, read and act.
    """
    codes = sorted(set(dept_codes))
    everything_read = {(READ, r) for r in (TODAY, DELIVERY_LOG, *DEPARTMENT_FAMILIES)}
    specs = [
        RoleSpec(
            OPERATIONS,
            frozenset(everything_read | {(ACT, CALL_LIST)}),
            "data-platform team on duty: every page of every department",
        ),
        RoleSpec(
            AUDITOR,
            frozenset(everything_read),
            "auditors: every page of every department, read-only, personal data masked",
        ),
    ]
    for code in codes:
        specs.append(
            RoleSpec(
                reviewer_role(code),
                frozenset({(READ, scoped(REVIEW, code)), (READ, scoped(DQ_REPORTS, code))}),
                f"department {code}: its quarterly review and data-quality reports",
            )
        )
        specs.append(
            RoleSpec(
                call_staff_role(code),
                frozenset({(READ, scoped(CALL_LIST, code)), (ACT, scoped(CALL_LIST, code))}),
                f"department {code}: its call list",
            )
        )
    return specs


Authorizer = Callable[[str, str], bool]


@dataclass
class Viewer:
    """A logged-in user as the pages see them: a name to greet and the auth manager's answers.

    ``authorize(method, resource)`` asks the auth manager; answers are remembered for the request.
    """

    name: str
    authorize: Authorizer
    _answers: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)

    def may(self, resource: str, method: str = READ) -> bool:
        key = (method, resource)
        if key not in self._answers:
            self._answers[key] = bool(self.authorize(method, resource))
        return self._answers[key]

    def departments(self, family: str, known: Iterable[str], method: str = READ) -> list[str]:
        """The departments among ``known`` whose ``family`` page this user may use."""
        codes = sorted(set(known))
        if self.may(family, method):
            return codes
        return [c for c in codes if self.may(scoped(family, c), method)]

    def may_any(self, family: str, known: Iterable[str], method: str = READ) -> bool:
        return bool(self.departments(family, known, method))
