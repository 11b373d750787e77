"""Attendance: headcounts per delivered session and optional pseudonymous registers."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
