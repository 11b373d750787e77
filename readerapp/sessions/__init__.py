"""Sessions (single occurrences of a group) and the reading materials read in them; the
catalogue's pages are readerapp.catalogue's."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import EVERYONE
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "My sessions", "sessions.dashboard", EVERYONE)
