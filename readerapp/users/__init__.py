"""Accounts, roles and personal API tokens."""

from flask import Flask


def init_app(app: Flask) -> None:
    from . import views

    app.register_blueprint(views.bp)
