"""Staff accounts as charities run them: signing in and out, a person's own account,
invitations and password resets by single-use link, two-factor sign-in and single sign-on."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..access import INVITERS
    from ..web import register_nav
    from . import link_views, sso, sso_views, two_factor_views, views

    sso.init_app(app)
    app.register_blueprint(views.bp)
    app.register_blueprint(sso_views.bp)
    app.register_blueprint(link_views.bp)
    app.register_blueprint(two_factor_views.bp)
    register_nav(app, "Invite", "accounts.invitations", INVITERS)
