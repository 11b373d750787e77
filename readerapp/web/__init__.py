"""What every page shares: the layout, navigation, filters, the home page and error pages."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

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


def init_app(app: Flask) -> None:
    from . import errors, filters, html_attributes, views

    html_attributes.install()
    app.register_blueprint(views.bp)
    filters.register(app)
    errors.register(app)
