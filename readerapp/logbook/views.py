"""The leader's log pages: a session's page (its outcome, attendance and the texts read), the log
form, and importing a group's paper registers. Views load, check access, call an operation and
commit once."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.fields.choices import SelectChoice

from ..access import can_edit_group_sessions, is_leader, require, sees_participants
from ..attendance.operations import Headcounts, RegisterInput, parse_codes, register_codes
from ..db import begin_writing, reads_first
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.errors import SessionError
from ..sessions.models import ReadingMaterial, ReadingSession
from ..sessions.operations import NewMaterial, find_material, previous_readings, suggest_materials
from ..sessions.views import group_url, load_session, load_session_for_edit, people_choices
from ..timeutil import to_local, utcnow
from ..web.saving import save_form
from .forms import LogSessionForm
from .imports import COLUMNS, MAX_BYTES, ImportRejected, RowError, import_attendance, template_rows
from .operations import SessionLog, log_session

bp = Blueprint("logbook", __name__, template_folder="templates")

CATALOGUE_SUGGESTIONS = 300
KIND_BY_ROW = ("short_story", "poem")


@dataclass(frozen=True)
class Problem:
    """One message for the error summary, linking to the field it concerns."""

    anchor: str
    label: str
    message: str


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


# --- one session -----------------------------------------------------------------------------


@bp.get("/sessions/<int:session_id>")
@login_required
def detail(session_id: int) -> ResponseReturnValue:
    session = load_session(session_id)
    participants_visible = sees_participants(current_user)
    return render_template(
        "logbook/detail.html",
        s=session,
        now=utcnow(),
        can_edit=can_edit_group_sessions(current_user, session.group),
        participants_visible=participants_visible,
        register=register_codes(session) if participants_visible else [],
        already_read=_already_read_messages(session, list(session.materials)),
        group_url=group_url(session.group_id),
    )


def _leader_choices(session: ReadingSession) -> list[SelectChoice]:
    return [SelectChoice(0, "No leader recorded"), *people_choices(session.group, session.leader)]


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
            "logbook/log.html",
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
    session = load_session_for_edit(session_id)
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
        session = load_session_for_edit(session_id)
        if saved.changed_meanwhile:
            # The next save is a deliberate choice made with both versions in view.
            form.version.data = str(session.version)
            return _render_log(form, session, 409, conflict=True)
        return _render_log(
            form, session, saved.status, already_read=_typed_already_read(form, session)
        )
    warnings = saved.value
    target = url_for("logbook.detail", session_id=session_id)
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


# --- paper registers ---------------------------------------------------------------------------


class ImportForm(FlaskForm):
    file = FileField("CSV file", render_kw={"accept": ".csv,text/csv"})


def _group_for_import(group_id: int) -> ReadingGroup:
    group = db.session.get(ReadingGroup, group_id)
    if group is None:
        abort(404)
    require(can_edit_group_sessions(current_user, group))
    return group


def _render(
    group: ReadingGroup, form: ImportForm, errors: list[RowError], status: int = 200
) -> ResponseReturnValue:
    return (
        render_template(
            "logbook/import.html", group=group, form=form, errors=errors, columns=COLUMNS
        ),
        status,
    )


@bp.route("/groups/<int:group_id>/import-attendance", methods=["GET", "POST"])
@login_required
def import_csv(group_id: int) -> ResponseReturnValue:
    group = _group_for_import(group_id)
    form = ImportForm()
    if request.method == "GET":
        return _render(group, form, [])
    if not form.validate():
        return _render(group, form, [], 400)
    upload = form.file.data
    if upload is None or not getattr(upload, "filename", ""):
        form.file.errors = ["Choose a CSV file to upload."]
        return _render(group, form, [], 400)
    data = upload.stream.read(MAX_BYTES + 1)
    saved = save_form(form, lambda: import_attendance(group, data, actor=current_user))
    if not saved:
        rows = saved.error.errors if isinstance(saved.error, ImportRejected) else []
        return _render(group, form, rows, saved.status)
    result = saved.value
    message = f"Imported {result.logged} session{'s' if result.logged != 1 else ''}."
    if result.created:
        message += f" {result.created} of them had no scheduled session and were added."
    flash(message, "success")
    return redirect(url_for("logbook.import_csv", group_id=group.id))


@bp.get("/groups/<int:group_id>/import-attendance/template.csv")
@login_required
def import_template(group_id: int) -> ResponseReturnValue:
    group = _group_for_import(group_id)
    buffer = io.StringIO()
    # A BOM so Excel reads the file as UTF-8.
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(template_rows(group))
    return Response(
        buffer.getvalue(),
        content_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="register-group-{group.id}.csv"',
            "Cache-Control": "no-store",
        },
    )
