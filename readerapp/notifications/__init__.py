"""Outgoing mail: an outbox every message passes through, delivered over SMTP when configured."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import ADMINS
    from ..web import register_nav
    from . import feed_address_views, views

    app.register_blueprint(views.bp)
    app.register_blueprint(feed_address_views.bp)
    register_nav(app, "Outbox", "notifications.outbox", ADMINS)
