"""Accounts, roles and personal API tokens."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import ADMINS
    from ..web import register_nav
    from . import admin_views
    from .auth import clear_device_of_deactivated

    app.after_request(clear_device_of_deactivated)
    app.register_blueprint(admin_views.bp)
    register_nav(app, "Users", "users_admin.index", ADMINS)
