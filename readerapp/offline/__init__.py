"""Working with no signal: the installable web app for reader leaders (manifest, icons, a
service worker served from the site's root), the list of pages a leader's phone keeps, and
what every page tells the device (keep pages, or clear them). The queue of logs lives on the
device (static/js/offline-queue.js); the server's half of "sent once" is the log's
idempotency key (logbook)."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
