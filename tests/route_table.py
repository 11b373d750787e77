"""The table that says, for every route in the app, what each role gets.

Each domain adds a module ``tests/routes_<domain>.py`` with a ``ROUTES`` list. The test in
``test_routes_every_role.py`` fails when a route in the URL map has no entry here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .world import World

ROLES = (
    "anonymous",
    "admin",
    "manager",
    "leader",
    "other_leader",
    "partner",
    "other_partner",
    # A manager granted the safeguarding-lead capability: gets what a manager gets unless a
    # route says otherwise (``expected_for``).
    "dsl",
)

Expected = int | tuple[int, ...]


@dataclass(frozen=True)
class Route:
    endpoint: str
    url: Callable[[World], str]
    # role -> the status (or any of the statuses) it must get; roles left out get `default`
    expect: dict[str, Expected]
    default: Expected = 403
    method: str = "GET"
    data: Callable[[World], dict[str, object]] = field(default=lambda w: {})


def expected_for(route: Route, role: str) -> Expected:
    """What ``role`` must get on ``route``: a safeguarding lead is a manager unless told."""
    if role == "dsl" and role not in route.expect:
        return route.expect.get("manager", route.default)
    return route.expect.get(role, route.default)


SIGN_IN = 302  # anonymous users are sent to the sign-in page


def everyone(status: Expected = 200) -> dict[str, Expected]:
    return {role: status for role in ROLES if role != "anonymous"} | {"anonymous": SIGN_IN}


def staff(status: Expected = 200) -> dict[str, Expected]:
    """Admins and managers."""
    return {"admin": status, "manager": status, "anonymous": SIGN_IN}


def admins(status: Expected = 200) -> dict[str, Expected]:
    return {"admin": status, "anonymous": SIGN_IN}
