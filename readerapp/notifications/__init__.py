"""Outgoing mail: an outbox every message passes through, delivered over SMTP when configured."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import ADMINS
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Outbox", "notifications.outbox", ADMINS)
