"""Participants' personal data: who may see names, retention, erasure."""

from flask import Flask

from .operations import apply_retention, erase_participant

__all__ = ["apply_retention", "erase_participant", "init_app"]


def init_app(app: Flask) -> None:
    from ..access import MAY_LEAD
    from ..web import register_nav
    from . import cli, views

    app.register_blueprint(views.bp)
    app.cli.add_command(cli.privacy)
    register_nav(app, "Participants", "privacy.participants", MAY_LEAD)
