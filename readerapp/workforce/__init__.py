"""Reader leaders as a workforce: employment, training, DBS checks that gate regulated settings,
and the hours worked out from the sessions they lead."""

from flask import Flask


def init_app(app: Flask) -> None:
    from ..config import ConfigError
    from ..organisations.models import SETTING_TYPES

    unknown = set(app.config["WORKFORCE_REGULATED_SETTINGS"]) - set(SETTING_TYPES)
    if unknown:
        raise ConfigError(
            f"WORKFORCE_REGULATED_SETTINGS: unknown setting types {sorted(unknown)}; "
            f"choose from {', '.join(SETTING_TYPES)}"
        )
    from ..access import LEADERS, STAFF
    from ..web import register_nav
    from . import views

    app.register_blueprint(views.bp)
    register_nav(app, "Leaders", "workforce.index", STAFF)
    register_nav(app, "My checks", "workforce.mine", LEADERS)
    register_nav(app, "Hours", "workforce.hours", STAFF)
    # Pages of the layers below (a group's sessions, the dashboard) show lapsed checks through
    # these, without importing this package.
    app.jinja_env.globals["leader_check_lapsed"] = views.leader_check_lapsed
    app.jinja_env.globals["workforce_lapses"] = views.dashboard_lapses
