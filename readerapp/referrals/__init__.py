"""Referrals per participant: who referred them, when and why, how far they have come (moved
on by the register), and short updates to the referrer with the person's consent."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import MAY_LEAD
    from ..attendance.operations import REGISTER_CHANGED
    from ..web import register_nav
    from . import views
    from .operations import follow_register

    if follow_register not in REGISTER_CHANGED:
        REGISTER_CHANGED.append(follow_register)
    app.register_blueprint(views.bp)
    register_nav(app, "Referrals", "referrals.index", MAY_LEAD)
