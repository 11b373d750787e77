"""Outcomes: the questionnaires a charity uses to show what changed for people (measures as
data, loaded from each charity's licensed copy; ONS4 ships with readerapp)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import STAFF
    from ..web import register_nav
    from . import collecting, import_views, self_completion, views, voice_views
    from .cli import measures

    app.register_blueprint(views.bp)
    app.register_blueprint(collecting.bp)
    app.register_blueprint(import_views.bp)
    app.register_blueprint(self_completion.bp)
    app.register_blueprint(voice_views.bp)
    app.cli.add_command(measures)
    # Leaders may open the questionnaires too, and keep their short phone menu.
    register_nav(app, "Measures", "outcomes.index", STAFF)
