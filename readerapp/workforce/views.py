"""Workforce pages: the leaders list with lapsed assignments (managers' dashboard), a person's
record of employment, checks and training (staff, and the person themself), hours worked out
from the schedule with managers' adjustments, and the hours download.

Every view of a person's checks is recorded in the audit trail; their changes are recorded by
the trail's listener like any other row."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from ..access import (
    EVERYONE,
    local_today,
    managers_only,
    may_manage_workforce,
    may_view_leader_record,
    require,
    roles_required,
    sees_leader_clearance,
)
from ..audit.trail import record
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession
from ..users.models import User
from ..web.saving import save_form
from . import operations as ops
from .forms import (
    HOURS_GROUPINGS,
    CheckEditForm,
    CheckForm,
    GroupHoursForm,
    HoursAdjustmentForm,
    HoursForm,
    LeaderRecordForm,
    TrainingForm,
    course_label,
)
from .models import (
    CHECK_TYPE_LABELS,
    CheckRecord,
    GroupHoursSetting,
    LeaderRecord,
    TrainingRecord,
)

bp = Blueprint("workforce", __name__, template_folder="templates")


def _person(user_id: int) -> User:
    person = db.get_or_404(User, user_id)
    require(may_view_leader_record(current_user, person))
    return person


def _managers() -> list[SelectChoice]:
    people = [p for p in ops.leaders() if p.role in ("manager", "admin")]
    return [SelectChoice("", "—")] + [SelectChoice(p.id, p.display_name) for p in people]


def _forms(person: User) -> tuple[LeaderRecordForm, CheckForm, TrainingForm]:
    leader_record = db.session.get(LeaderRecord, person.id)
    record_form = LeaderRecordForm(
        obj=leader_record if request.method == "GET" else None, prefix="record"
    )
    record_form.manager_id.choices = _managers()
    check_form, training_form = CheckForm(prefix="check"), TrainingForm(prefix="training")
    training_form.set_courses(current_app.config["WORKFORCE_COURSES"])
    return record_form, check_form, training_form


def _render_person(
    person: User, forms: tuple[LeaderRecordForm, CheckForm, TrainingForm], status: int = 200
) -> ResponseReturnValue:
    checks = db.session.scalars(
        db.select(CheckRecord)
        .where(CheckRecord.user_id == person.id)
        .order_by(CheckRecord.renewal_due.desc())
    ).all()
    training = db.session.scalars(
        db.select(TrainingRecord)
        .where(TrainingRecord.user_id == person.id)
        .order_by(TrainingRecord.completed_on.desc())
    ).all()
    record("view_checks", "leader_record", person.id)
    record_form, check_form, training_form = forms
    return render_template(
        "workforce/person.html",
        person=person,
        status=ops.check_status(person, local_today()),
        leader_record=db.session.get(LeaderRecord, person.id),
        checks=checks,
        training=training,
        check_labels=CHECK_TYPE_LABELS,
        course_label=course_label,
        record_form=record_form,
        check_form=check_form,
        training_form=training_form,
        can_edit=may_manage_workforce(current_user),
    ), status


@bp.get("/workforce/")
@managers_only
def index() -> ResponseReturnValue:
    today = local_today()
    people = [ops.check_status(person, today) for person in ops.leaders()]
    return render_template(
        "workforce/index.html",
        people=people,
        lapses=ops.lapsed_assignments(today),
        check_labels=CHECK_TYPE_LABELS,
    )


@bp.get("/workforce/me")
@roles_required(EVERYONE)
def mine() -> ResponseReturnValue:
    require(may_view_leader_record(current_user, current_user))
    return redirect(url_for("workforce.person", user_id=current_user.id))


@bp.get("/workforce/people/<int:user_id>")
@roles_required(EVERYONE)
def person(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    return _render_person(person, _forms(person))


@bp.post("/workforce/people/<int:user_id>/record")
@managers_only
def save_record(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    forms = _forms(person)
    form = forms[0]
    if form.validate():
        data = ops.LeaderRecordData(
            form.employment_type.data, form.manager_id.data, form.left_on.data
        )
        saved = save_form(form, lambda: ops.save_leader_record(person, data))
        if saved:
            flash("Record saved.", "success")
            return redirect(url_for("workforce.person", user_id=user_id))
        return _render_person(db.get_or_404(User, user_id), forms, saved.status)
    return _render_person(person, forms, 400)


@bp.post("/workforce/people/<int:user_id>/checks")
@managers_only
def add_check(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    forms = _forms(person)
    form = forms[1]
    if form.validate():
        data = ops.CheckData(
            form.check_type.data,
            form.certificate_number.data,
            form.issued_on.data,
            form.renewal_due.data,
            form.update_service.data,
            form.update_checked_on.data,
        )
        saved = save_form(form, lambda: ops.add_check(person, data))
        if saved:
            flash("Check added.", "success")
            return redirect(url_for("workforce.person", user_id=user_id))
        return _render_person(db.get_or_404(User, user_id), forms, saved.status)
    return _render_person(person, forms, 400)


@bp.post("/workforce/people/<int:user_id>/training")
@managers_only
def add_training(user_id: int) -> ResponseReturnValue:
    person = _person(user_id)
    forms = _forms(person)
    form = forms[2]
    if form.validate():
        data = ops.TrainingData(form.course.data, form.completed_on.data, form.expires_on.data)
        saved = save_form(form, lambda: ops.add_training(person, data))
        if saved:
            flash("Training added.", "success")
            return redirect(url_for("workforce.person", user_id=user_id))
        return _render_person(db.get_or_404(User, user_id), forms, saved.status)
    return _render_person(person, forms, 400)


def _own_record(
    model: type[CheckRecord] | type[TrainingRecord], user_id: int, record_id: int
) -> tuple[User, Any]:
    """A person's check or training record, for staff to correct or remove; 404 when the
    record is someone else's."""
    person = _person(user_id)
    found = db.get_or_404(model, record_id)
    if found.user_id != person.id:
        abort(404)
    return person, found


def _check_form_data(form: CheckForm) -> ops.CheckData:
    return ops.CheckData(
        form.check_type.data,
        form.certificate_number.data or "",
        form.issued_on.data,
        form.renewal_due.data,
        form.update_service.data,
        form.update_checked_on.data,
    )


@bp.route("/workforce/people/<int:user_id>/checks/<int:check_id>", methods=["GET", "POST"])
@managers_only
def edit_check(user_id: int, check_id: int) -> ResponseReturnValue:
    person, check = _own_record(CheckRecord, user_id, check_id)
    form = CheckEditForm(obj=check if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = _check_form_data(form)
            saved = save_form(form, lambda: ops.update_check(check, data))
            if saved:
                flash("Check corrected.", "success")
                return redirect(url_for("workforce.person", user_id=user_id))
            status = saved.status
            person, check = _own_record(CheckRecord, user_id, check_id)
    record("view_checks", "leader_record", person.id)
    return render_template(
        "workforce/edit_check.html", person=person, check=check, form=form
    ), status


@bp.post("/workforce/people/<int:user_id>/checks/<int:check_id>/delete")
@managers_only
def delete_check(user_id: int, check_id: int) -> ResponseReturnValue:
    _, check = _own_record(CheckRecord, user_id, check_id)
    ops.remove_record(check)
    db.session.commit()
    flash("Check removed.", "success")
    return redirect(url_for("workforce.person", user_id=user_id))


@bp.route("/workforce/people/<int:user_id>/training/<int:training_id>", methods=["GET", "POST"])
@managers_only
def edit_training(user_id: int, training_id: int) -> ResponseReturnValue:
    person, training = _own_record(TrainingRecord, user_id, training_id)
    form = TrainingForm(obj=training if request.method == "GET" else None)
    form.set_courses(current_app.config["WORKFORCE_COURSES"])
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = ops.TrainingData(form.course.data, form.completed_on.data, form.expires_on.data)
            saved = save_form(form, lambda: ops.update_training(training, data))
            if saved:
                flash("Training corrected.", "success")
                return redirect(url_for("workforce.person", user_id=user_id))
            status = saved.status
            person, training = _own_record(TrainingRecord, user_id, training_id)
    return render_template(
        "workforce/edit_training.html", person=person, training=training, form=form
    ), status


@bp.post("/workforce/people/<int:user_id>/training/<int:training_id>/delete")
@managers_only
def delete_training(user_id: int, training_id: int) -> ResponseReturnValue:
    _, training = _own_record(TrainingRecord, user_id, training_id)
    ops.remove_record(training)
    db.session.commit()
    flash("Training removed.", "success")
    return redirect(url_for("workforce.person", user_id=user_id))


def _quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _hours_form() -> HoursForm:
    args = request.args.to_dict()
    today = local_today()
    args.setdefault("date_from", _quarter_start(today).isoformat())
    args.setdefault("date_to", today.isoformat())
    args.setdefault("by", "person")
    return HoursForm(formdata=MultiDict(args))


def _hours(form: HoursForm) -> tuple[list[ops.HoursTotal], ops.HoursTotal] | None:
    if not form.validate():
        return None
    if form.date_to.data < form.date_from.data:
        form.date_to.errors = [*form.date_to.errors, "The end must be on or after the start."]
        return None
    lines = ops.hours_lines(form.date_from.data, form.date_to.data)
    return ops.hours_totals(lines, form.by.data), ops.total_of(lines)


@bp.get("/workforce/hours")
@managers_only
def hours() -> ResponseReturnValue:
    form = _hours_form()
    result = _hours(form)
    return render_template(
        "workforce/hours.html",
        form=form,
        totals=result[0] if result else [],
        total=result[1] if result else None,
        grouping=HOURS_GROUPINGS.get(form.by.data or "", "Person"),
        rate=current_app.config["VOLUNTEER_HOURLY_RATE"],
    ), (200 if result else 400)


def _cell(text: str) -> str:
    # A spreadsheet takes a cell starting with one of these as a formula.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


@bp.get("/workforce/hours.csv")
@managers_only
def hours_csv() -> ResponseReturnValue:
    form = _hours_form()
    result = _hours(form)
    if result is None:
        return render_template(
            "workforce/hours.html", form=form, totals=[], total=None, grouping="", rate=0
        ), 400
    totals, total = result
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(
        [
            HOURS_GROUPINGS[form.by.data],
            "Sessions",
            "Hours",
            "Volunteer hours",
            "Value of volunteer hours (£)",
        ]
    )
    for row in [*totals, total]:
        writer.writerow(
            [_cell(row.name), row.sessions, row.hours, row.volunteer_hours, row.volunteer_value]
        )
    name = f"hours-{form.by.data}-{form.date_from.data}-{form.date_to.data}.csv"
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/workforce/sessions/<int:session_id>/hours", methods=["GET", "POST"])
@managers_only
def adjust(session_id: int) -> ResponseReturnValue:
    session = db.get_or_404(ReadingSession, session_id)
    people = ops.session_people(session)
    form = HoursAdjustmentForm()
    form.user_id.choices = [SelectChoice(p.id, p.display_name) for p in people]
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            person = db.session.get(User, form.user_id.data) if form.user_id.data else None
            if person is None:
                form.user_id.errors = ["Choose someone who led or co-led the session."]
            else:
                saved = save_form(
                    form,
                    lambda: ops.adjust_hours(session, person, form.minutes.data, form.reason.data),
                )
                if saved:
                    flash("Hours adjusted.", "success")
                    return redirect(url_for("workforce.adjust", session_id=session_id))
                status = saved.status
                session = db.get_or_404(ReadingSession, session_id)
    lines = [
        line
        for line in ops.hours_lines(session.local_start.date(), session.local_start.date())
        if line.session.id == session.id
    ]
    return render_template("workforce/adjust.html", session=session, form=form, lines=lines), status


@bp.route("/workforce/groups/<int:group_id>/hours", methods=["GET", "POST"])
@managers_only
def group_hours(group_id: int) -> ResponseReturnValue:
    """A group's preparation and travel time per session, counted in its leaders' hours."""
    group = db.get_or_404(ReadingGroup, group_id)
    setting = db.session.get(GroupHoursSetting, group.id)
    defaults = {
        "preparation_minutes": current_app.config["WORKFORCE_PREPARATION_MINUTES"],
        "travel_minutes": current_app.config["WORKFORCE_TRAVEL_MINUTES"],
    }
    form = GroupHoursForm(obj=setting, data=None if setting else defaults)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate():
            data = ops.HoursSettingData(form.preparation_minutes.data, form.travel_minutes.data)
            saved = save_form(form, lambda: ops.save_hours_setting(group, data))
            if saved:
                flash("Preparation and travel time saved.", "success")
                return redirect(url_for("workforce.group_hours", group_id=group_id))
            status = saved.status
            group = db.get_or_404(ReadingGroup, group_id)
    return render_template(
        "workforce/group_hours.html", group=group, form=form, own=setting is not None
    ), status


def leader_check_lapsed(session: ReadingSession) -> bool:
    """For templates below this package (a group's upcoming sessions): shown to staff and to
    the session's leader only, as a person's checks are theirs and staff's."""
    leader_id = session.leader_id or session.group.lead_leader_id
    if not sees_leader_clearance(current_user, leader_id):
        return False
    return ops.session_leader_lapsed(session)


def dashboard_lapses() -> list[ops.Lapse]:
    """For the sessions dashboard: staff see the assignments whose check has lapsed."""
    if not may_manage_workforce(current_user):
        return []
    return ops.lapsed_assignments(local_today())
