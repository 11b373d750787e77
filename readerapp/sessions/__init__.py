"""Sessions (single occurrences of a group) and the reading materials read in them."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import EVERYONE
    from ..web import register_nav
    from . import catalogue, views

    app.register_blueprint(views.bp)
    app.register_blueprint(catalogue.bp)
    register_nav(app, "My sessions", "sessions.dashboard", EVERYONE)
    register_nav(app, "Texts", "materials.index", EVERYONE)
