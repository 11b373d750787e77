"""Sessions (single occurrences of a group) and the reading materials read in them."""

from flask import Flask

ALL_ROLES = ("admin", "manager", "reader_leader", "partner_viewer")


def init_app(app: Flask) -> None:
    from ..web import register_nav
    from . import catalogue, views

    app.register_blueprint(views.bp)
    app.register_blueprint(catalogue.bp)
    register_nav(app, "My sessions", "sessions.dashboard", ALL_ROLES)
    register_nav(app, "Texts", "materials.index", ("admin", "manager"))
