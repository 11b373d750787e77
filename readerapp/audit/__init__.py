"""The audit trail: who created, changed, deleted, exported or viewed what, and from where."""

from flask import Flask

from .trail import acting_as, record, recordmany

__all__ = ["acting_as", "init_app", "record", "recordmany"]


def init_app(app: Flask) -> None:
    from ..access import ADMINS
    from ..web import register_nav
    from . import views
    from .trail import install_listeners

    install_listeners()
    app.register_blueprint(views.bp)
    register_nav(app, "Audit", "audit.index", ADMINS)
