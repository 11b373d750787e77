"""Pages for the broadcast grid: a station's week, create/move/cancel, the episode library and
the as-run list.

Who may read which station's grid and who may change it is decided in readerapp.access (its
docstring says why): managers and admins change everything; reader leaders read every station's
week, as-run list and library; a partner_viewer only its own station's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TypeVar

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from ..access import (
    RADIO_READERS,
    managers_only,
    may_change_radio,
    may_list_episode_voices,
    may_view_station,
    require,
    roles_required,
    visible_station_ids,
)
from ..extensions import db
from ..organisations.models import Organisation
from ..outcomes.voices import WITHDRAWN_WARNING, withdrawn_voices
from ..sessions.models import ReadingMaterial
from ..timeutil import local_zone, to_local, utcnow
from ..web.forms import offer_fold
from ..web.saving import attach_error, save_form
from .forms import BroadcastForm, CancelForm, EpisodeForm, MoveForm, ProgrammeForm
from .models import Broadcast, Episode, Programme
from .operations import (
    EpisodeData,
    ProgrammeData,
    as_run,
    cancel_broadcast,
    create_broadcast,
    describe,
    move_broadcast,
    save_episode,
    save_programme,
    summarise_as_run,
)

bp = Blueprint("radio", __name__, url_prefix="/radio", template_folder="templates")

T = TypeVar("T")

AS_RUN_DEFAULT_DAYS = 28
AS_RUN_MAX_DAYS = 400


def _station_or_404(station_id: int) -> Organisation:
    station = db.session.get(Organisation, station_id)
    if station is None or not station.is_station:
        abort(404)
    return station


def _may_view_station(station: Organisation) -> bool:
    return may_view_station(current_user, station)


def _parse_day(name: str, default: date) -> date:
    raw = request.args.get(name)
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{name}: expected a date like 2026-11-30")


def _local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=local_zone())


@bp.get("/")
@roles_required(RADIO_READERS)
def index() -> ResponseReturnValue:
    query = sa.select(Organisation).where(Organisation.kind == "radio_station")
    ids = visible_station_ids(current_user)
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    stations = db.session.scalars(query.order_by(Organisation.name)).all()
    return render_template(
        "radio/index.html",
        stations=stations,
        can_edit=may_change_radio(current_user),
        all_stations=ids is None,
    )


@bp.get("/stations/<int:station_id>/week")
@login_required
def week(station_id: int) -> ResponseReturnValue:
    station = _station_or_404(station_id)
    require(_may_view_station(station))
    today = to_local(utcnow()).date()
    start = _parse_day("start", today)
    monday = start - timedelta(days=start.weekday())
    days = [monday + timedelta(days=i) for i in range(7)]
    broadcasts = db.session.scalars(
        sa.select(Broadcast)
        .where(
            Broadcast.station_id == station.id,
            Broadcast.air_dt >= _local_midnight_utc(monday),
            Broadcast.air_dt < _local_midnight_utc(monday + timedelta(days=7)),
        )
        .options(
            sa.orm.selectinload(Broadcast.episode).selectinload(Episode.programme),
            sa.orm.selectinload(Broadcast.repeat_of),
        )
        .order_by(Broadcast.air_dt)
    ).all()
    by_day: dict[date, list[Broadcast]] = {d: [] for d in days}
    for b in broadcasts:
        by_day.setdefault(to_local(b.air_dt).date(), []).append(b)
    return render_template(
        "radio/week.html",
        station=station,
        days=days,
        by_day=by_day,
        previous=monday - timedelta(days=7),
        following=monday + timedelta(days=7),
        can_edit=may_change_radio(current_user),
    )


def _episode_choices(station: Organisation) -> list[SelectChoice]:
    rows = db.session.execute(
        sa.select(Episode.id, Programme.title, Episode.number, Episode.title)
        .join(Programme)
        .where(Programme.station_id == station.id)
        .order_by(Programme.title, Episode.number)
    ).all()
    return [SelectChoice(eid, f"{p} {n}: {t}") for eid, p, n, t in rows]


def _first_airing_choices(station: Organisation) -> list[SelectChoice]:
    firsts = db.session.scalars(
        sa.select(Broadcast)
        .where(
            Broadcast.station_id == station.id,
            Broadcast.repeat_of_id.is_(None),
            Broadcast.status != "cancelled",
            Broadcast.air_dt >= utcnow() - timedelta(days=60),
        )
        .options(sa.orm.selectinload(Broadcast.episode))
        .order_by(Broadcast.air_dt)
    ).all()
    return [SelectChoice(0, "Not a repeat")] + [SelectChoice(b.id, describe(b)) for b in firsts]


@bp.route("/stations/<int:station_id>/broadcasts/new", methods=["GET", "POST"])
@managers_only
def new_broadcast(station_id: int) -> ResponseReturnValue:
    station = _station_or_404(station_id)
    form = BroadcastForm()
    form.episode_id.choices = _episode_choices(station)
    form.repeat_of_id.choices = _first_airing_choices(station)
    status = 200
    if request.method == "GET" and request.args.get("date"):
        form.air_date.data = _parse_day("date", to_local(utcnow()).date())
    offer_fold(form, form.air_date.data, form.air_time.data, form.tz_name.data)
    if form.validate_on_submit():
        episode = db.session.get(Episode, form.episode_id.data)
        repeat_of = db.session.get(Broadcast, form.repeat_of_id.data or 0)
        broadcast, status = _saved(
            form,
            lambda: create_broadcast(
                episode=episode,
                day=form.air_date.data,
                at=form.air_time.data,
                tz_name=form.tz_name.data,
                duration_minutes=form.duration_minutes.data,
                repeat_of=repeat_of,
                fold=form.fold.data,
            ),
        )
        if broadcast is not None:
            flash(f"Scheduled {describe(broadcast)}.", "success")
            return redirect(_week_url(broadcast))
    elif request.method == "POST":
        status = 400
    return render_template("radio/broadcast_form.html", form=form, station=station), status


def _saved(form: FlaskForm, save: Callable[[], T]) -> tuple[T | None, int]:
    """Run an operation for a form: commit what it did, or roll back and show its refusal on
    the field at fault (409 for a clash with existing data, 400 otherwise)."""
    saved = save_form(form, save, field="air_time")
    return (saved.value, 302) if saved else (None, saved.status)


def _week_url(b: Broadcast) -> str:
    return url_for("radio.week", station_id=b.station_id, start=to_local(b.air_dt).date())


def _broadcast_or_404(broadcast_id: int) -> Broadcast:
    return db.get_or_404(Broadcast, broadcast_id)


@bp.route("/broadcasts/<int:broadcast_id>/move", methods=["GET", "POST"])
@managers_only
def move(broadcast_id: int) -> ResponseReturnValue:
    broadcast = _broadcast_or_404(broadcast_id)
    form = MoveForm()
    status = 200
    if request.method == "GET":
        local = to_local(broadcast.air_dt, broadcast.tz_name)
        form.air_date.data, form.air_time.data = local.date(), local.time()
        form.duration_minutes.data = broadcast.duration_minutes
        # A broadcast at a repeated time keeps which one it is unless changed.
        form.fold.data = local.fold
    offer_fold(form, form.air_date.data, form.air_time.data, broadcast.tz_name)
    if request.method == "POST" and form.validate_on_submit():
        moved, status = _saved(
            form,
            lambda: move_broadcast(
                broadcast,
                day=form.air_date.data,
                at=form.air_time.data,
                duration_minutes=form.duration_minutes.data,
                fold=form.fold.data,
            ),
        )
        if moved is not None:
            flash(f"Moved: now {describe(broadcast)}.", "success")
            return redirect(_week_url(broadcast))
    elif request.method == "POST":
        status = 400
    return render_template("radio/move.html", form=form, broadcast=broadcast), status


@bp.route("/broadcasts/<int:broadcast_id>/cancel", methods=["GET", "POST"])
@managers_only
def cancel(broadcast_id: int) -> ResponseReturnValue:
    broadcast = _broadcast_or_404(broadcast_id)
    form = CancelForm()
    status = 200
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: cancel_broadcast(broadcast, form.reason.data),
            attach=lambda exc: attach_error(form, exc.message, "reason", None),
        )
        if saved:
            flash(f"Cancelled {describe(broadcast)}.", "success")
            return redirect(_week_url(broadcast))
        # Answered as a clash: the broadcast's state (aired, cancelled) is the usual cause.
        status = 409
    elif request.method == "POST":
        status = 400
    return render_template("radio/cancel.html", form=form, broadcast=broadcast), status


@bp.get("/stations/<int:station_id>/as-run")
@login_required
def as_run_list(station_id: int) -> ResponseReturnValue:
    station = _station_or_404(station_id)
    require(_may_view_station(station))
    today = to_local(utcnow()).date()
    end_day = _parse_day("to", today)
    start_day = _parse_day("from", end_day - timedelta(days=AS_RUN_DEFAULT_DAYS))
    if start_day > end_day or (end_day - start_day).days > AS_RUN_MAX_DAYS:
        abort(400, description=f"from must be before to, at most {AS_RUN_MAX_DAYS} days apart")
    rows = as_run(
        station.id,
        _local_midnight_utc(start_day),
        _local_midnight_utc(end_day + timedelta(days=1)),
    )
    summary = summarise_as_run(station.id, rows, _local_midnight_utc(start_day))
    return render_template(
        "radio/as_run.html",
        station=station,
        rows=rows,
        summary=summary,
        start_day=start_day,
        end_day=end_day,
    )


@bp.get("/programmes")
@roles_required(RADIO_READERS)
def library() -> ResponseReturnValue:
    query = (
        sa.select(Programme)
        .options(
            sa.orm.selectinload(Programme.station),
            sa.orm.selectinload(Programme.episodes).selectinload(Episode.materials),
        )
        .order_by(Programme.title)
    )
    ids = visible_station_ids(current_user)
    if ids is not None:
        query = query.where(Programme.station_id.in_(ids))
    programmes = db.session.scalars(query).all()
    lists_voices = may_list_episode_voices(current_user)
    withdrawn = (
        withdrawn_voices(e.id for p in programmes for e in p.episodes) if lists_voices else {}
    )
    return render_template(
        "radio/library.html",
        programmes=programmes,
        can_edit=may_change_radio(current_user),
        lists_voices=lists_voices,
        withdrawn=withdrawn,
        withdrawn_warning=WITHDRAWN_WARNING,
    )


def _station_choices() -> list[SelectChoice]:
    return [
        SelectChoice(s.id, s.name)
        for s in db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.kind == "radio_station")
            .order_by(Organisation.name)
        )
    ]


def _programme_page(programme: Programme | None) -> ResponseReturnValue:
    form = ProgrammeForm(obj=programme)
    form.station_id.choices = _station_choices()
    status = 200
    if form.validate_on_submit():
        data = ProgrammeData(
            station_id=form.station_id.data,
            title=form.title.data or "",
            description=form.description.data or None,
        )
        saved, status = _saved(form, lambda: save_programme(programme, data))
        if saved is not None:
            flash(f"Programme “{saved.title}” {'saved' if programme else 'created'}.", "success")
            return redirect(url_for("radio.library"))
    elif request.method == "POST":
        status = 400
    return render_template("radio/programme_form.html", form=form, programme=programme), status


@bp.route("/programmes/new", methods=["GET", "POST"])
@managers_only
def new_programme() -> ResponseReturnValue:
    return _programme_page(None)


@bp.route("/programmes/<int:programme_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_programme(programme_id: int) -> ResponseReturnValue:
    return _programme_page(db.session.get(Programme, programme_id) or abort(404))


def _material_choices() -> list[SelectChoice]:
    return [
        SelectChoice(m.id, str(m))
        for m in db.session.scalars(sa.select(ReadingMaterial).order_by(ReadingMaterial.title))
    ]


def _save_episode(
    form: EpisodeForm, programme: Programme, episode: Episode | None
) -> tuple[Episode | None, int]:
    data = EpisodeData(
        number=form.number.data,
        title=form.title.data or "",
        duration_minutes=form.duration_minutes.data,
        material_ids=list(form.material_ids.data or []),
    )
    return _saved(form, lambda: save_episode(episode, programme, data))


@bp.route("/programmes/<int:programme_id>/episodes/new", methods=["GET", "POST"])
@managers_only
def new_episode(programme_id: int) -> ResponseReturnValue:
    programme = db.session.get(Programme, programme_id) or abort(404)
    form = EpisodeForm()
    form.material_ids.choices = _material_choices()
    if request.method == "GET":
        form.number.data = max((e.number for e in programme.episodes), default=0) + 1
        form.duration_minutes.data = 55
        return render_template("radio/episode_form.html", form=form, programme=programme)
    status = 400
    if form.validate_on_submit():
        episode, status = _save_episode(form, programme, None)
        if episode is not None:
            flash(f"Episode {episode.number} added.", "success")
            return redirect(url_for("radio.library"))
    return render_template("radio/episode_form.html", form=form, programme=programme), status


@bp.route("/episodes/<int:episode_id>/edit", methods=["GET", "POST"])
@managers_only
def edit_episode(episode_id: int) -> ResponseReturnValue:
    episode = db.session.get(Episode, episode_id) or abort(404)
    form = EpisodeForm(obj=episode)
    form.material_ids.choices = _material_choices()
    if request.method == "GET":
        form.material_ids.data = [m.id for m in episode.materials]
        return render_template(
            "radio/episode_form.html", form=form, programme=episode.programme, episode=episode
        )
    status = 400
    if form.validate_on_submit():
        saved, status = _save_episode(form, episode.programme, episode)
        if saved is not None:
            flash(f"Episode {saved.number} saved.", "success")
            return redirect(url_for("radio.library"))
    return render_template(
        "radio/episode_form.html", form=form, programme=episode.programme, episode=episode
    ), status
