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
