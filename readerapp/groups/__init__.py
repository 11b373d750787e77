"""Reading groups, their leaders and their recurrence patterns."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import EVERYONE
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Groups", "groups.index", EVERYONE)
