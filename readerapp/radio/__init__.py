"""Prison radio: programmes, recorded episodes and their broadcasts on a station."""

import sqlalchemy as sa
from flask import Flask

from ..extensions import db
from ..organisations.models import Organisation
from ..organisations.operations import STATION_HOLDS


def _has_programmes(station: Organisation) -> bool:
    from .models import Programme

    found = sa.select(Programme.id).where(Programme.station_id == station.id).limit(1)
    return db.session.scalar(found) is not None


# A station that has programmes stays a radio station.
STATION_HOLDS["programmes"] = _has_programmes


def _station_week(user: object) -> str | None:
    """A radio station's people land on its broadcast week."""
    from flask import url_for

    from ..access import own_station_id

    station_id = own_station_id(user)
    return None if station_id is None else url_for("radio.week", station_id=station_id)


def init_app(app: Flask) -> None:
    from ..access import RADIO_READERS
    from ..web import register_landing, register_nav
    from . import views
    from .cli import schedules

    app.register_blueprint(views.bp)
    app.cli.add_command(schedules)
    register_nav(app, "Radio", "radio.index", RADIO_READERS)
    register_landing(app, _station_week, rank=10)
