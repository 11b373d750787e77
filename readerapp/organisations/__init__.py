"""Partner organisations, their venues, and their partnerships with reading groups."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import STAFF
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Partners", "organisations.index", STAFF)
