"""Prison radio: programmes, recorded episodes and their broadcasts on a station."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import RADIO_READERS
    from ..web import register_nav
    from . import views
    from .cli import schedules

    app.register_blueprint(views.bp)
    app.cli.add_command(schedules)
    register_nav(app, "Radio", "radio.index", RADIO_READERS)
