"""Session pages: the "My sessions" dashboard, a session's page, logging it, cancelling and
moving one occurrence, adding a one-off session to a group. Views load, check access, call an
operation and commit once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from ..access import (
    can_edit_group_sessions,
    can_view_group,
    is_leader,
    may_lead,
    require,
    sees_participants,
)
from ..attendance.operations import Headcounts, RegisterInput, parse_codes, register_codes
from ..db import begin_writing, reads_first
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..timeutil import to_local, utcnow
from ..users.models import User
from ..web.forms import offer_fold
from ..web.saving import save_form
from . import queries
from .errors import SessionError
from .forms import AddSessionForm, CancelSessionForm, LogSessionForm, RescheduleSessionForm
from .models import ReadingMaterial, ReadingSession
from .operations import (
    NewMaterial,
    SessionLog,
    add_session,
    cancel_session,
    find_material,
    log_session,
    previous_readings,
    reschedule_session,
    suggest_materials,
)

bp = Blueprint("sessions", __name__, template_folder="templates")

CATALOGUE_SUGGESTIONS = 300
KIND_BY_ROW = ("short_story", "poem")


@dataclass(frozen=True)
class Problem:
    """One message for the error summary, linking to the field it concerns."""

    anchor: str
    label: str
    message: str


def group_url(group_id: int) -> str | None:
    """The group's page, once the groups pages exist."""
    if "groups.detail" in current_app.view_functions:
        return url_for("groups.detail", group_id=group_id)
    return None


def _page_arg(name: str) -> int:
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _page_url(arg: str, page: int) -> str:
    args = request.args.to_dict()
    args[arg] = str(page)
    return url_for("sessions.dashboard", **args)


def _load(session_id: int) -> ReadingSession:
    # Every session page checks the group and shows the attendance: read with the row.
    session = db.session.get(
        ReadingSession,
        session_id,
        options=[joinedload(ReadingSession.group), joinedload(ReadingSession.attendance)],
    )
    if session is None:
        abort(404)
    require(can_view_group(current_user, session.group))
    return session


def _load_for_edit(session_id: int) -> ReadingSession:
    session = _load(session_id)
    require(can_edit_group_sessions(current_user, session.group))
    return session


def _when(dt: datetime) -> str:
    return to_local(dt).strftime("%a %-d %b %Y")


def _already_read_messages(session: ReadingSession, materials: list[ReadingMaterial]) -> list[str]:
    """ "Already read by this group on …" for each material the group has read before."""
    readings = previous_readings(
        session.group_id, [m.id for m in materials], exclude_session_id=session.id
    )
    messages = []
    for material in materials:
        dates = readings.get(material.id)
        if dates:
            listed = ", ".join(_when(d) for d in dates[-3:])
            messages.append(f"This group has already read “{material}” ({listed}).")
    return messages


# --- dashboard -------------------------------------------------------------------------------


@bp.get("/sessions")
@login_required
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    partner = not sees_participants(current_user)
    upcoming = queries.upcoming(current_user, now, _page_arg("upcoming_page"))
    today = queries.start_of_local_day(now).date()
    due = None if partner else queries.to_log(current_user, now, _page_arg("due_page"))
    # Worth flagging only when it is not the one card there is.
    oldest = queries.oldest_to_log(current_user, now) if due and due.total > 1 else None
    return render_template(
        "sessions/dashboard.html",
        now=now,
        today=today,
        upcoming=upcoming,
        due=due,
        oldest=oldest,
        recent=queries.recent_logs(current_user, now),
        partner=partner,
        group_url=group_url,
        page_url=_page_url,
    )


# --- one session -----------------------------------------------------------------------------


@bp.get("/sessions/<int:session_id>")
@login_required
def detail(session_id: int) -> ResponseReturnValue:
    session = _load(session_id)
    participants_visible = sees_participants(current_user)
    return render_template(
        "sessions/detail.html",
        s=session,
        now=utcnow(),
        can_edit=can_edit_group_sessions(current_user, session.group),
        participants_visible=participants_visible,
        register=register_codes(session) if participants_visible else [],
        already_read=_already_read_messages(session, list(session.materials)),
        group_url=group_url(session.group_id),
    )


def _people_choices(group: ReadingGroup, *also: User | None) -> list[SelectChoice]:
    """The group's leaders, anyone in ``also`` and the signed-in editor, as select choices."""
    people: dict[int, User] = {}
    for user in [group.lead_leader, *group.coleaders, *also]:
        if user is not None:
            people[user.id] = user
    if may_lead(current_user):
        people.setdefault(current_user.id, current_user)
    return [SelectChoice(u.id, u.display_name) for u in sorted(people.values(), key=lambda u: u.id)]


def _leader_choices(session: ReadingSession) -> list[SelectChoice]:
    return [SelectChoice(0, "No leader recorded"), *_people_choices(session.group, session.leader)]


def _fill_from_session(form: LogSessionForm, session: ReadingSession) -> None:
    """Defaults for a GET: what is saved, or sensible guesses for a first log."""
    form.version.data = str(session.version)
    # A session still to come can only be logged as cancelled.
    if session.status == "cancelled" or (
        session.status == "scheduled" and session.start_dt > utcnow()
    ):
        form.status.data = "cancelled"
    form.cancellation_reason.data = session.cancellation_reason or ""
    if session.attendance is not None:
        for name in ("participants", "first_time", "staff_carers", "volunteers"):
            getattr(form, name).data = getattr(session.attendance, name)
    form.notes.data = session.notes or ""
    default_leader = session.leader_id
    if default_leader is None and is_leader(current_user):
        default_leader = current_user.id
    form.leader_id.data = default_leader or 0
    codes = register_codes(session)
    form.register_codes.data = "\n".join(code for code, _ in codes)
    materials = list(session.materials)
    while len(form.materials.entries) < len(materials) + 1:
        form.materials.append_entry()
    for entry, material in zip(form.materials.entries, materials, strict=False):
        entry.form.title.data = material.title
        entry.form.author.data = material.author
        entry.form.kind.data = material.kind
    for index, entry in enumerate(form.materials.entries[len(materials) :]):
        position = len(materials) + index
        if position < len(KIND_BY_ROW):
            entry.form.kind.data = KIND_BY_ROW[position]


def _entry_from_form(form: LogSessionForm) -> SessionLog | None:
    """The operation's input, or None after adding parse problems to the form."""
    codes: tuple[str, ...] = ()
    new_codes: tuple[str, ...] = ()
    register = None
    if form.status.data == "delivered":
        try:
            codes = parse_codes(form.register_codes.data, "register_codes")
        except SessionError as error:
            form.register_codes.errors.append(error.message)
        try:
            new_codes = parse_codes(form.new_codes.data, "new_codes")
        except SessionError as error:
            form.new_codes.errors.append(error.message)
        register = RegisterInput(codes=codes, new_codes=new_codes)
    if form.register_codes.errors or form.new_codes.errors:
        return None
    new_materials = []
    for entry in form.materials.entries:
        title = (entry.form.title.data or "").strip()
        author = (entry.form.author.data or "").strip()
        if title or author:
            new_materials.append(NewMaterial(title, author, entry.form.kind.data))
    return SessionLog(
        status=form.status.data,
        cancellation_reason=form.cancellation_reason.data,
        headcounts=Headcounts(
            participants=form.participants.data or 0,
            first_time=form.first_time.data or 0,
            staff_carers=form.staff_carers.data or 0,
            volunteers=form.volunteers.data or 0,
        ),
        new_materials=new_materials,
        register=register,
        notes=form.notes.data,
        leader_id=form.leader_id.data or None,
    )


def _problems(form: LogSessionForm) -> list[Problem]:
    """Every inline error of the form, in page order, for the summary at the top."""
    problems = []
    for field in form:
        if field.name == "materials":
            for entry in field.entries:
                for sub in entry.form:
                    for message in sub.errors:
                        problems.append(Problem(sub.id, f"Text read: {sub.label.text}", message))
            for message in getattr(form, "material_errors", []):
                problems.append(Problem("materials-0-title", "Texts read", message))
            continue
        for message in field.errors:
            label = field.label.text if field.name != "version" else "Form"
            problems.append(Problem(field.id, label, message))
    return problems


def _typed_already_read(form: LogSessionForm, session: ReadingSession) -> list[str]:
    materials = []
    for entry in form.materials.entries:
        material = find_material(entry.form.title.data or "", entry.form.author.data or "")
        if material is not None:
            materials.append(material)
    return _already_read_messages(session, materials)


def _render_log(
    form: LogSessionForm,
    session: ReadingSession,
    status: int = 200,
    conflict: bool = False,
    already_read: list[str] | None = None,
) -> ResponseReturnValue:
    catalogue = suggest_materials(limit=CATALOGUE_SUGGESTIONS)
    read_before = previous_readings(
        session.group_id, [m.id for m in catalogue], exclude_session_id=session.id
    )
    authors = sorted({m.author for m in catalogue})
    return (
        render_template(
            "sessions/log.html",
            s=session,
            form=form,
            problems=_problems(form),
            conflict=conflict,
            catalogue=catalogue,
            authors=authors,
            read_before={k: _when(v[-1]) for k, v in read_before.items()},
            already_read=already_read or [],
            saved_register=register_codes(session) if conflict else [],
            group_url=group_url(session.group_id),
        ),
        status,
    )


@bp.route("/sessions/<int:session_id>/log", methods=["GET", "POST"])
@reads_first
@login_required
def log(session_id: int) -> ResponseReturnValue:
    session = _load_for_edit(session_id)
    form = LogSessionForm()
    form.leader_id.choices = _leader_choices(session)
    form.material_errors = []  # type: ignore[attr-defined]
    if request.method == "GET":
        _fill_from_session(form, session)
        return _render_log(
            form, session, already_read=_already_read_messages(session, list(session.materials))
        )

    if not form.validate():
        return _render_log(form, session, 400, already_read=_typed_already_read(form, session))
    entry = _entry_from_form(form)
    if entry is None:
        return _render_log(form, session, 400)
    begin_writing()

    def save() -> list[str]:
        log_session(session, entry, expected_version=int(form.version.data), actor=current_user)
        # Before the commit, which expires every loaded row: reading one after it is a new query.
        return _already_read_messages(session, list(session.materials))

    saved = save_form(
        form, save, conflict_notice=True, attach=lambda error: _attach_error(form, error)
    )
    if not saved:
        session = _load_for_edit(session_id)
        if saved.changed_meanwhile:
            # The next save is a deliberate choice made with both versions in view.
            form.version.data = str(session.version)
            return _render_log(form, session, 409, conflict=True)
        return _render_log(
            form, session, saved.status, already_read=_typed_already_read(form, session)
        )
    warnings = saved.value
    target = url_for("sessions.detail", session_id=session_id)
    flash(
        "The session has been logged."
        if entry.status == "delivered"
        else "The session has been logged as cancelled.",
        "success",
    )
    for message in warnings:
        flash(message, "warning")
    return redirect(target)


def _attach_error(form: LogSessionForm, error: FieldError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    if error.field == "materials" or field is None:
        form.material_errors.append(error.message)  # type: ignore[attr-defined]
    else:
        field.errors = [*field.errors, error.message]


# --- one occurrence: cancel, reschedule, add a one-off ------------------------------------------


def _occurrence_page(
    session_id: int,
    form: CancelSessionForm | RescheduleSessionForm,
    template: str,
    *,
    change: Callable[[ReadingSession, int], object],
    fill: Callable[[ReadingSession], None],
    error_field: str,
    done: str,
) -> ResponseReturnValue:
    """Cancel or move one occurrence: the form carries the version it was read at, so a change
    made meanwhile shows as a conflict (409) instead of being overwritten; a refusal shows on
    its field (409 for a clash with another session, 400 otherwise)."""
    session = _load_for_edit(session_id)
    status, conflict = 200, False
    if request.method == "GET":
        form.version.data = str(session.version)
        fill(session)
    if isinstance(form, RescheduleSessionForm):
        offer_fold(form, form.date.data, form.start_time.data, session.tz_name)
    if request.method == "GET":
        return render_template(template, s=session, form=form, conflict=conflict), status
    if form.validate():
        saved = save_form(
            form,
            lambda: change(session, int(form.version.data)),
            field=error_field,
            conflict_notice=True,
        )
        if saved:
            flash(done, "success")
            return redirect(url_for("sessions.detail", session_id=session_id))
        session = _load_for_edit(session_id)
        status, conflict = saved.status, saved.changed_meanwhile
        if conflict:
            form.version.data = str(session.version)
    else:
        status = 400
    return render_template(template, s=session, form=form, conflict=conflict), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(session_id: int) -> ResponseReturnValue:
    form = CancelSessionForm()
    return _occurrence_page(
        session_id,
        form,
        "sessions/cancel.html",
        change=lambda s, version: cancel_session(s, form.reason.data, expected_version=version),
        fill=lambda s: None,
        error_field="reason",
        done="The session has been cancelled.",
    )


@bp.route("/sessions/<int:session_id>/reschedule", methods=["GET", "POST"])
@login_required
def reschedule(session_id: int) -> ResponseReturnValue:
    form = RescheduleSessionForm()

    def fill(session: ReadingSession) -> None:
        local = session.local_start
        form.date.data = local.date()
        form.start_time.data = local.time().replace(second=0, microsecond=0)
        form.duration_minutes.data = session.duration_minutes
        # A session at a repeated time keeps which one it is unless changed.
        form.fold.data = local.fold

    return _occurrence_page(
        session_id,
        form,
        "sessions/reschedule.html",
        change=lambda s, version: reschedule_session(
            s,
            form.date.data,
            form.start_time.data,
            form.duration_minutes.data,
            expected_version=version,
            fold=form.fold.data,
        ),
        fill=fill,
        error_field="date",
        done="The session has been moved.",
    )


def _group_for_edit(group_id: int) -> ReadingGroup:
    """A group whose sessions the user may change: 404 if they cannot see it, 403 if they only
    see it."""
    group = db.session.get(ReadingGroup, group_id)
    if group is None or not can_view_group(current_user, group):
        abort(404)
    require(can_edit_group_sessions(current_user, group))
    return group


def _new_session_leader_choices(group: ReadingGroup) -> list[SelectChoice]:
    choices = _people_choices(group)
    # Without a choice the operation takes the group's lead leader, so "none" only when there
    # is no lead leader to take.
    if group.lead_leader_id is None:
        choices.insert(0, SelectChoice(0, "No leader recorded"))
    return choices


@bp.route("/groups/<int:group_id>/sessions/new", methods=["GET", "POST"])
@login_required
def new(group_id: int) -> ResponseReturnValue:
    """An extra, one-off session outside the group's pattern (a Christmas special, a make-up)."""
    group = _group_for_edit(group_id)
    form = AddSessionForm()
    form.leader_id.choices = _new_session_leader_choices(group)
    status = 200
    if request.method == "GET":
        form.start_time.data = group.start_time
        form.duration_minutes.data = group.duration_minutes
        form.leader_id.data = group.lead_leader_id or 0
    offer_fold(form, form.date.data, form.start_time.data, group.tz_name)
    if request.method == "POST" and form.validate():
        saved = save_form(
            form,
            lambda: add_session(
                group,
                form.date.data,
                form.start_time.data,
                form.duration_minutes.data,
                leader_id=form.leader_id.data or None,
                fold=form.fold.data,
            ),
            field="date",
        )
        if saved:
            flash("The session has been added.", "success")
            return redirect(url_for("sessions.detail", session_id=saved.value.id))
        group = _group_for_edit(group_id)
        status = saved.status
    elif request.method == "POST":
        status = 400
    return (
        render_template("sessions/new.html", group=group, form=form, group_url=group_url(group.id)),
        status,
    )
