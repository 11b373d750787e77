"""Feed scopes, declared once: what each kind of feed is for, how its target is found and
checked, how it is labelled and which events it holds.

The database constraint, the web form, the command line, the API and the feed queries all read
this registry. Adding a scope means adding one row here (and a migration for the constraint,
which is generated from these rows); an unknown scope is an error everywhere, never a fallback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..users.models import Role, User

Target = Organisation | ReadingGroup | User

# The FeedToken columns that can hold a target; each scope uses exactly one of them.
TARGET_COLUMNS = ("organisation_id", "group_id", "user_id")


class FeedScope(StrEnum):
    ORGANISATION = "organisation"
    GROUP = "group"
    LEADER = "leader"
    STATION = "station"


def _any(target: Any) -> str | None:
    return None


def _must_be_station(target: Organisation) -> str | None:
    return None if target.is_station else f"{target.name} is not a radio station"


def _must_lead(target: User) -> str | None:
    # What the target is, not who may do what (that is access.py's): a leader's feed follows
    # the groups a reader leader leads.
    return None if target.role == Role.READER_LEADER else f"{target.email} is not a reader leader"


@dataclass(frozen=True)
class ScopeRule:
    scope: FeedScope
    label: str  # what the feed shows, for people choosing one
    target_model: type[Target]
    target_column: str  # the FeedToken column (and API field) holding the target's id
    form_field: str  # the web form's select for the target
    option_help: str  # the command line's --<scope> option
    name_column: Any  # what the command line finds the target by
    # None when ``target`` may have this feed; otherwise why not, for a person to read.
    refuse: Callable[[Any], str | None]
    # Which events the feed holds: sessions of groups, and/or broadcasts of a station. An
    # organisation's feed holds its broadcasts too when it is a station.
    holds_sessions: bool
    holds_broadcasts: bool | None  # None: when the target is a radio station

    def find_by_name(self, session: Any, value: str) -> Target | None:
        if self.target_model is User:
            value = User.normalise_email(value)
        return session.scalar(sa.select(self.target_model).where(self.name_column == value))

    def shows_broadcasts(self, is_station: bool) -> bool:
        return is_station if self.holds_broadcasts is None else self.holds_broadcasts


SCOPES: dict[FeedScope, ScopeRule] = {
    rule.scope: rule
    for rule in (
        ScopeRule(
            FeedScope.ORGANISATION,
            "A partner organisation (every group it partners)",
            Organisation,
            "organisation_id",
            "organisation_id",
            "A partner organisation's name: every group it partners.",
            Organisation.name,
            _any,
            holds_sessions=True,
            holds_broadcasts=None,
        ),
        ScopeRule(
            FeedScope.GROUP,
            "One reading group",
            ReadingGroup,
            "group_id",
            "group_id",
            "A reading group's name.",
            ReadingGroup.name,
            _any,
            holds_sessions=True,
            holds_broadcasts=False,
        ),
        ScopeRule(
            FeedScope.LEADER,
            "One reader leader's sessions",
            User,
            "user_id",
            "leader_id",
            "A reader leader's email: their own sessions.",
            User.email,
            _must_lead,
            holds_sessions=True,
            holds_broadcasts=False,
        ),
        ScopeRule(
            FeedScope.STATION,
            "A radio station's broadcasts",
            Organisation,
            "organisation_id",
            "station_id",
            "A radio station's name: its broadcasts.",
            Organisation.name,
            _must_be_station,
            holds_sessions=False,
            holds_broadcasts=True,
        ),
    )
}
FEED_SCOPES = tuple(scope.value for scope in FeedScope)
assert set(SCOPES) == set(FeedScope), "every feed scope needs its registry row"


class UnknownScope(ValueError):
    """A scope that is not in the registry."""


def rule_for(scope: str) -> ScopeRule:
    try:
        return SCOPES[FeedScope(scope)]
    except ValueError:
        known = ", ".join(FEED_SCOPES)
        raise UnknownScope(f"unknown feed scope {scope!r}: one of {known}") from None


def one_target_condition() -> str:
    """The CHECK constraint's SQL: each scope's own target column set, the others empty."""
    cases = []
    for rule in SCOPES.values():
        parts = [f"scope = '{rule.scope.value}'", f"{rule.target_column} IS NOT NULL"]
        parts += [f"{c} IS NULL" for c in TARGET_COLUMNS if c != rule.target_column]
        cases.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(cases)
