"""What every page shares: the layout, navigation, filters, the home page and error pages."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

from flask import Flask


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: frozenset[str]


def register_nav(app: Flask, label: str, endpoint: str, roles: Collection[str]) -> None:
    """Add a link to the navigation bar for the given roles."""
    app.extensions.setdefault("readerapp.nav", []).append(
        NavItem(label, endpoint, frozenset(roles))
    )


@dataclass(frozen=True)
class Landing:
    # The page where ``user`` lands after signing in, or None when this landing is not theirs.
    where: Callable[[Any], str | None]
    rank: int  # lower ranks are asked first


def register_landing(app: Flask, where: Callable[[Any], str | None], rank: int) -> None:
    """Say where some users land on the home page; those no landing claims see their sessions."""
    landings = app.extensions.setdefault("readerapp.landings", [])
    landings.append(Landing(where, rank))
    landings.sort(key=lambda landing: landing.rank)


def init_app(app: Flask) -> None:
    from . import errors, filters, html_attributes, views

    html_attributes.install()
    app.register_blueprint(views.bp)
    filters.register(app)
    errors.register(app)
