"""Radio: stations, programmes, episodes and broadcasts."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ..access import may_list_episode_voices
from ..extensions import db
from ..organisations.models import Organisation
from ..outcomes.voices import (
    WITHDRAWN_WARNING,
    episode_voices,
    set_episode_voices,
    withdrawn_voices,
)
from ..radio.models import Broadcast, Episode, Programme
from ..radio.operations import (
    EpisodeData,
    ProgrammeData,
    cancel_broadcast,
    create_broadcast,
    move_broadcast,
    save_episode,
    save_programme,
)
from ..timeutil import is_valid_zone, local_to_utc, local_zone, to_local
from .core import (
    Blueprint,
    api_user,
    field_error,
    forbid,
    get_or_404,
    not_found,
    paginate_query,
)
from .core import staff_only as require_staff
from .schemas import shared
from .schemas.common import bounded_day
from .schemas.radio import (
    BroadcastInputSchema,
    BroadcastQuerySchema,
    BroadcastSchema,
    BroadcastUpdateSchema,
    EpisodeInputSchema,
    EpisodeQuerySchema,
    EpisodeSchema,
    EpisodeUpdateSchema,
    EpisodeVoicesInputSchema,
    EpisodeVoicesSchema,
    ProgrammeInputSchema,
    ProgrammeQuerySchema,
    ProgrammeSchema,
    ProgrammeUpdateSchema,
    StationSchema,
)
from .visibility import restrict, visible_or_404, visible_station_ids

stations = Blueprint(
    "api_stations", __name__, url_prefix="/api/v1/stations", description="Radio stations."
)
programmes = Blueprint(
    "api_programmes",
    __name__,
    url_prefix="/api/v1/programmes",
    description="Series on a station.",
)
episodes = Blueprint(
    "api_episodes",
    __name__,
    url_prefix="/api/v1/episodes",
    description="Recorded sessions, ready to broadcast.",
)
broadcasts = Blueprint(
    "api_broadcasts",
    __name__,
    url_prefix="/api/v1/broadcasts",
    description="An episode on a station at an air time.",
)

LIBRARY = "change programmes and episodes"


@stations.route("")
class Stations(MethodView):
    @stations.etag
    @stations.response(200, StationSchema(many=True))
    @stations.paginate()
    def get(self, pagination_parameters: Any) -> list[Organisation]:
        """List radio stations."""
        query = (
            sa.select(Organisation)
            .where(Organisation.kind == "radio_station")
            .order_by(Organisation.name, Organisation.id)
        )
        query = restrict(query, Organisation.id, visible_station_ids(api_user()))
        return paginate_query(query, pagination_parameters)


@stations.route("/<int:station_id>")
class StationItem(MethodView):
    @stations.etag
    @stations.response(200, StationSchema)
    def get(self, station_id: int) -> Organisation:
        """One radio station."""
        station = visible_or_404(Organisation, station_id, visible_station_ids(api_user()))
        if station.kind != "radio_station":
            not_found()
        return station


@programmes.route("")
class Programmes(MethodView):
    @programmes.etag
    @programmes.arguments(ProgrammeQuerySchema, location="query")
    @programmes.response(200, ProgrammeSchema(many=True))
    @programmes.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Programme]:
        """List programmes."""
        query = sa.select(Programme).order_by(Programme.title, Programme.id)
        if "station_id" in args:
            query = query.where(Programme.station_id == args["station_id"])
        query = restrict(query, Programme.station_id, visible_station_ids(api_user()))
        return paginate_query(query, pagination_parameters)

    @programmes.arguments(ProgrammeInputSchema)
    @programmes.response(201, ProgrammeSchema)
    def post(self, values: dict[str, Any]) -> Programme:
        """Add a programme to a station (managers and admins); titles are unique there."""
        require_staff(LIBRARY)
        programme = save_programme(None, ProgrammeData(**values))
        db.session.commit()
        return programme


@programmes.route("/<int:programme_id>")
class ProgrammeItem(MethodView):
    @programmes.etag
    @programmes.response(200, ProgrammeSchema)
    def get(self, programme_id: int) -> Programme:
        """One programme."""
        ids = visible_station_ids(api_user())
        return visible_or_404(Programme, programme_id, ids, key=lambda p: p.station_id)

    @programmes.etag
    @programmes.arguments(ProgrammeUpdateSchema(partial=True))
    @programmes.response(200, ProgrammeSchema)
    def patch(self, values: dict[str, Any], programme_id: int) -> Programme:
        """Change a programme (managers and admins); fields left out keep their value.

        A programme with broadcasts keeps its station. Needs If-Match.
        """
        ids = visible_station_ids(api_user())
        programme = visible_or_404(Programme, programme_id, ids, key=lambda p: p.station_id)
        require_staff(LIBRARY)
        programmes.check_etag(programme, shared(ProgrammeSchema))
        current = {
            "station_id": programme.station_id,
            "title": programme.title,
            "description": programme.description,
        }
        save_programme(programme, ProgrammeData(**(current | values)))
        db.session.commit()
        return programme


@episodes.route("")
class Episodes(MethodView):
    @episodes.etag
    @episodes.arguments(EpisodeQuerySchema, location="query")
    @episodes.response(200, EpisodeSchema(many=True))
    @episodes.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Episode]:
        """List episodes."""
        query = (
            sa.select(Episode)
            .options(selectinload(Episode.materials))
            .join(Programme, Programme.id == Episode.programme_id)
            .order_by(Episode.programme_id, Episode.number, Episode.id)
        )
        if "programme_id" in args:
            query = query.where(Episode.programme_id == args["programme_id"])
        query = restrict(query, Programme.station_id, visible_station_ids(api_user()))
        return paginate_query(query, pagination_parameters)

    @episodes.arguments(EpisodeInputSchema)
    @episodes.response(201, EpisodeSchema)
    def post(self, values: dict[str, Any]) -> Episode:
        """Add an episode to a programme (managers and admins); numbers are unique there."""
        require_staff(LIBRARY)
        programme = get_or_404(Programme, values.pop("programme_id"))
        episode = save_episode(None, programme, EpisodeData(**values))
        db.session.commit()
        return episode


@episodes.route("/<int:episode_id>")
class EpisodeItem(MethodView):
    @episodes.etag
    @episodes.response(200, EpisodeSchema)
    def get(self, episode_id: int) -> Episode:
        """One episode."""
        ids = visible_station_ids(api_user())
        return visible_or_404(Episode, episode_id, ids, key=lambda e: e.programme.station_id)

    @episodes.etag
    @episodes.arguments(EpisodeUpdateSchema(partial=True))
    @episodes.response(200, EpisodeSchema)
    def patch(self, values: dict[str, Any], episode_id: int) -> Episode:
        """Change an episode (managers and admins); fields left out keep their value.

        `material_ids`, when sent, replaces the list. Needs If-Match.
        """
        ids = visible_station_ids(api_user())
        episode = visible_or_404(Episode, episode_id, ids, key=lambda e: e.programme.station_id)
        require_staff(LIBRARY)
        episodes.check_etag(episode, shared(EpisodeSchema))
        current = {
            "number": episode.number,
            "title": episode.title,
            "duration_minutes": episode.duration_minutes,
            "material_ids": [m.id for m in episode.materials],
        }
        save_episode(episode, episode.programme, EpisodeData(**(current | values)))
        db.session.commit()
        return episode


def _voices_of(episode: Episode) -> dict[str, Any]:
    withdrawn = set(withdrawn_voices([episode.id]).get(episode.id, []))
    return {
        "episode_id": episode.id,
        "voices": [
            {"code": v.participant.code, "consent_in_force": v.participant.code not in withdrawn}
            for v in episode_voices(episode.id)
        ],
        "warning": WITHDRAWN_WARNING if withdrawn else None,
    }


def _voices_episode(episode_id: int) -> Episode:
    user = api_user()
    # Staff only, whoever sees the episode: everyone else is refused alike (403).
    if not may_list_episode_voices(user):
        forbid("Only managers and admins may see or list the voices in an episode.")
    return visible_or_404(
        Episode, episode_id, visible_station_ids(user), key=lambda e: e.programme.station_id
    )


@episodes.route("/<int:episode_id>/voices")
class EpisodeVoices(MethodView):
    @episodes.response(200, EpisodeVoicesSchema)
    def get(self, episode_id: int) -> dict[str, Any]:
        """The participants heard in an episode, by code, and whether each still consents to
        their voice in a radio recording (managers and admins)."""
        return _voices_of(_voices_episode(episode_id))

    @episodes.arguments(EpisodeVoicesInputSchema)
    @episodes.response(200, EpisodeVoicesSchema)
    def put(self, values: dict[str, Any], episode_id: int) -> dict[str, Any]:
        """Replace the list of participants heard in an episode (managers and admins). A code
        without current consent to their voice in a radio recording is refused (422 on
        `codes`)."""
        episode = _voices_episode(episode_id)
        set_episode_voices(episode, values["codes"], api_user().id)
        db.session.commit()
        return _voices_of(episode)


def broadcast_query(args: dict[str, Any]) -> sa.Select:
    query = sa.select(Broadcast).order_by(Broadcast.air_dt, Broadcast.id)
    tz = local_zone()
    if "air_from" in args:
        start = local_to_utc(bounded_day(args["air_from"]), time(), tz)
        query = query.where(Broadcast.air_dt >= start)
    if "air_to" in args:
        query = query.where(
            Broadcast.air_dt
            < local_to_utc(bounded_day(args["air_to"]) + timedelta(days=1), time(), tz)
        )
    for key in ("station_id", "episode_id", "status"):
        if key in args:
            query = query.where(getattr(Broadcast, key) == args[key])
    return restrict(query, Broadcast.station_id, visible_station_ids(api_user()))


@broadcasts.route("")
class Broadcasts(MethodView):
    @broadcasts.etag
    @broadcasts.arguments(BroadcastQuerySchema, location="query")
    @broadcasts.response(200, BroadcastSchema(many=True))
    @broadcasts.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Broadcast]:
        """List broadcasts, earliest first. `from`/`to` are local dates, both included."""
        return paginate_query(broadcast_query(args), pagination_parameters)

    @broadcasts.arguments(BroadcastInputSchema)
    @broadcasts.response(201, BroadcastSchema)
    def post(self, values: dict[str, Any]) -> Broadcast:
        """Schedule an episode on its programme's station (managers and admins).

        `air_dt` is an instant; it is kept as the wall-clock time in `tz_name`. An overlap
        with another broadcast on the station answers 409.
        """
        staff_only()
        episode = get_or_404(Episode, values["episode_id"])
        repeat_of = None
        if values.get("repeat_of_id") is not None:
            repeat_of = get_or_404(Broadcast, values["repeat_of_id"])
        day, at = _local_slot(values["air_dt"], values["tz_name"])
        broadcast = create_broadcast(
            episode=episode,
            day=day,
            at=at,
            tz_name=values["tz_name"],
            duration_minutes=values.get("duration_minutes"),
            repeat_of=repeat_of,
            fold=at.fold,
        )
        db.session.commit()
        return broadcast


@broadcasts.route("/<int:broadcast_id>")
class BroadcastItem(MethodView):
    @broadcasts.etag
    @broadcasts.response(200, BroadcastSchema)
    def get(self, broadcast_id: int) -> Broadcast:
        """One broadcast."""
        ids = visible_station_ids(api_user())
        return visible_or_404(Broadcast, broadcast_id, ids, key=lambda b: b.station_id)

    @broadcasts.etag
    @broadcasts.arguments(BroadcastUpdateSchema)
    @broadcasts.response(200, BroadcastSchema)
    def patch(self, changes: dict[str, Any], broadcast_id: int) -> Broadcast:
        """Cancel a broadcast, or move it (managers and admins). Needs If-Match.

        To cancel: `{"status": "cancelled", "cancellation_reason": "..."}`. To move: any of
        `air_dt`, `tz_name`, `duration_minutes`. An overlap answers 409.
        """
        ids = visible_station_ids(api_user())
        broadcast = visible_or_404(Broadcast, broadcast_id, ids, key=lambda b: b.station_id)
        staff_only()
        broadcasts.check_etag(broadcast, shared(BroadcastSchema))
        if changes.get("status") == "cancelled":
            cancel_broadcast(broadcast, changes["cancellation_reason"])
        else:
            tz_name = changes.get("tz_name", broadcast.tz_name)
            if not is_valid_zone(tz_name):
                field_error(422, "tz_name", f"Unknown time zone {tz_name!r} (e.g. Europe/London).")
            day, at = _local_slot(changes.get("air_dt", broadcast.air_dt), tz_name)
            move_broadcast(
                broadcast,
                day=day,
                at=at,
                tz_name=tz_name,
                duration_minutes=changes.get("duration_minutes"),
                fold=at.fold,
            )
        db.session.commit()
        return broadcast


def staff_only() -> None:
    require_staff("change the broadcast schedule")


def _local_slot(instant: datetime, tz_name: str) -> tuple[date, time]:
    if not is_valid_zone(tz_name):
        field_error(422, "tz_name", f"Unknown time zone {tz_name!r} (e.g. Europe/London).")
    local = to_local(instant, tz_name)
    return local.date(), local.time().replace(tzinfo=None)
