"""Partner iCalendar feeds and their access tokens."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import FEED_MANAGERS, SELF_SUBSCRIBERS
    from ..web import register_nav
    from .cli import feeds_cli
    from .partner_views import bp as partner_bp
    from .views import bp

    app.register_blueprint(bp)
    app.register_blueprint(partner_bp)
    app.cli.add_command(feeds_cli)
    register_nav(app, "Calendar feeds", "feeds.index", FEED_MANAGERS)
    register_nav(app, "Calendar", "partner_feeds.my_calendar", SELF_SUBSCRIBERS)
