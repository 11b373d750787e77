"""The catalogue of texts read: finding, adding and correcting one. The texts belong to sessions
and radio episodes alike, so the catalogue's pages build on both."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import EVERYONE
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Texts", "materials.index", EVERYONE)
