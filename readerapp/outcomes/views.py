"""The measures loaded, and each version's questions, answers and scoring, word for word, with
its acknowledgement (for those who ask the questions: readerapp.access decides)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms import BooleanField, IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from ..access import (
    MAY_LEAD,
    MEASURE_READERS,
    can_manage_groups,
    can_view_group,
    may_record_answers,
    require,
    roles_required,
    sees_participants,
)
from ..extensions import db
from ..groups.models import ReadingGroup
from ..web.forms import CleanForm
from ..web.saving import save_form
from .definitions import SCORING_LABELS, USE_LABELS, MeasureDefinition
from .limits import EVERY_SESSIONS, EVERY_WEEKS
from .models import GroupMeasure, Measure
from .schedule import (
    ScheduleData,
    describe_schedule,
    group_schedules,
    measures_asked_by_code,
    remove_schedule,
    save_schedule,
)

bp = Blueprint("outcomes", __name__, template_folder="templates")


@bp.get("/measures/")
@roles_required(MEASURE_READERS)
def index() -> ResponseReturnValue:
    measures = db.session.scalars(sa.select(Measure).order_by(Measure.name)).all()
    return render_template("outcomes/index.html", measures=measures)


@bp.get("/measures/<key>")
@roles_required(MEASURE_READERS)
def measure(key: str) -> ResponseReturnValue:
    found = db.session.scalar(sa.select(Measure).filter_by(key=key))
    if found is None or not found.versions:
        abort(404)
    chosen = found.versions[-1]
    asked = request.args.get("version")
    if asked is not None:
        chosen = next((v for v in found.versions if v.version == asked), None)
        if chosen is None:
            abort(404)
    return render_template(
        "outcomes/measure.html",
        measure=found,
        chosen=chosen,
        latest=found.versions[-1],
        definition=MeasureDefinition.from_json(chosen.definition),
        scoring_labels=SCORING_LABELS,
        use_labels=USE_LABELS,
    )


# --- Each group's measures and when they are asked -----------------------------------------------


class ScheduleForm(CleanForm):
    measure_id = SelectField("Measure", coerce=int, validators=[InputRequired("Choose a measure.")])
    at_first = BooleanField("At a person's first session", default=True)
    every_sessions = IntegerField(
        "Again every … sessions they come to",
        validators=[Optional(), NumberRange(EVERY_SESSIONS.min, EVERY_SESSIONS.max)],
    )
    every_weeks = IntegerField(
        "Or again every … weeks",
        validators=[Optional(), NumberRange(EVERY_WEEKS.min, EVERY_WEEKS.max)],
    )
    at_leaving = BooleanField("At the group's last session", default=True)


class RemoveForm(CleanForm):
    pass


def _group(group_id: int) -> ReadingGroup:
    group = db.get_or_404(ReadingGroup, group_id)
    require(can_view_group(current_user, group) and sees_participants(current_user))
    return group


def _render_schedules(group: ReadingGroup, form: ScheduleForm, status: int = 200):
    schedules = group_schedules(group)
    return render_template(
        "outcomes/group_measures.html",
        group=group,
        schedules=[(s, describe_schedule(s)) for s in schedules],
        form=form,
        remove_form=RemoveForm(),
        can_manage=can_manage_groups(current_user),
        can_import=may_record_answers(current_user, group),
        has_measures=bool(form.measure_id.choices),
    ), status


def _schedule_form(group: ReadingGroup) -> ScheduleForm:
    form = ScheduleForm()
    form.measure_id.choices = [(m.id, m.name) for m in measures_asked_by_code()]
    return form


@bp.get("/groups/<int:group_id>/measures")
@roles_required(MAY_LEAD)
def group_measures(group_id: int) -> ResponseReturnValue:
    group = _group(group_id)
    return _render_schedules(group, _schedule_form(group))


@bp.post("/groups/<int:group_id>/measures")
@roles_required(MAY_LEAD)
def group_measures_save(group_id: int) -> ResponseReturnValue:
    group = _group(group_id)
    require(can_manage_groups(current_user))
    form = _schedule_form(group)
    if not form.validate():
        return _render_schedules(group, form, 400)
    data = ScheduleData(
        measure_id=form.measure_id.data,
        at_first=form.at_first.data,
        every_sessions=form.every_sessions.data,
        every_weeks=form.every_weeks.data,
        at_leaving=form.at_leaving.data,
    )
    saved = save_form(form, lambda: save_schedule(group, data), field="measure_id")
    if not saved:
        return _render_schedules(group, form, saved.status)
    flash(f"{saved.value.measure.name}: asked {describe_schedule(saved.value)}.", "success")
    return redirect(url_for("outcomes.group_measures", group_id=group.id))


@bp.post("/groups/<int:group_id>/measures/<int:schedule_id>/remove")
@roles_required(MAY_LEAD)
def group_measures_remove(group_id: int, schedule_id: int) -> ResponseReturnValue:
    group = _group(group_id)
    require(can_manage_groups(current_user))
    schedule = db.session.get(GroupMeasure, schedule_id)
    if schedule is None or schedule.group_id != group.id:
        abort(404)
    form = RemoveForm()
    if not form.validate():
        abort(400)
    name = schedule.measure.name
    if save_form(form, lambda: remove_schedule(schedule)):
        flash(f"{name} is no longer asked in this group. Answers already given stay.", "success")
    return redirect(url_for("outcomes.group_measures", group_id=group.id))
