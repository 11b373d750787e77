"""The leader's log: a session's page, logging what happened at it (its outcome, the texts read
and its attendance, written together) and importing paper registers. It builds on sessions and
attendance, which never import it."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
