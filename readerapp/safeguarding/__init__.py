"""Safeguarding concerns: raised by leaders, read and managed by designated safeguarding leads
alone (readerapp.access), kept for their own retention period after closure."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import MAY_LEAD
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Safeguarding", "safeguarding.index", MAY_LEAD)
