"""The leader's log pages: a session's page (its outcome, attendance and the texts read), the log
form, and importing a group's paper registers. Views load, check access, call an operation and
commit once."""

from __future__ import annotations

import csv
import dataclasses
import io
from dataclasses import dataclass, replace
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
from wtforms import Field, IntegerField
from wtforms.fields.choices import SelectChoice

from ..access import (
    can_edit_group_sessions,
    is_leader,
    may_record_answers,
    may_see_names_on_register,
    require,
    sees_participants,
    sees_reading_plans,
)
from ..attendance.operations import (
    HEADCOUNT_FIELDS,
    Headcounts,
    RegisterInput,
    name_participants,
    names_refused,
    normalise_code,
    parse_codes,
    register_codes,
)
from ..audit import recordmany
from ..db import begin_writing, reads_first
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..outcomes.schedule import due_at, group_schedules
from ..sessions.errors import SessionError
from ..sessions.models import ReadingMaterial, ReadingSession
from ..sessions.operations import NewMaterial, find_material, previous_readings, suggest_materials
from ..sessions.views import group_url, load_session, load_session_for_edit, people_choices
from ..timeutil import to_local, utcnow
from ..web.forms import uploaded_bytes
from ..web.once import new_form_token, remember_saved, saved_already
from ..web.saving import save_form
from .forms import LogSessionForm
from .imports import COLUMNS, MAX_BYTES, ImportRejected, RowError, import_attendance, template_rows
from .operations import (
    NeedsConfirmation,
    SessionLog,
    check_idempotency_key,
    earlier_receipt,
    expected_maximum,
    log_problems,
    log_session,
    receive_once,
    unusual_counts,
)
from .queries import RosterEntry, group_roster, next_free_code, roster_has_names, roster_names

bp = Blueprint("logbook", __name__, template_folder="templates")

CATALOGUE_SUGGESTIONS = 300
KIND_BY_ROW = ("short_story", "poem")
# The operation's input names that the form spells differently.
FORM_FIELDS = {"register_codes": "present"}


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
        may_record_answers=may_record_answers(current_user, session.group),
        participants_visible=participants_visible,
        register=register_codes(session) if participants_visible else [],
        already_read=(
            _already_read_messages(session, list(session.materials))
            if sees_reading_plans(current_user)
            else []
        ),
        group_url=group_url(session.group_id),
    )


def _leader_choices(session: ReadingSession) -> list[SelectChoice]:
    return [SelectChoice(0, "No leader recorded"), *people_choices(session.group, session.leader)]


def _is_edit(session: ReadingSession) -> bool:
    return session.status != "scheduled"


def _shows_register(session: ReadingSession, saved: list[str]) -> bool:
    """Headcount-only groups see no register, unless this log already holds one."""
    return session.group.keeps_register or bool(saved)


@dataclass(frozen=True)
class Register:
    """The tick-list: the roster's codes, how many are regulars, and the next free code; whether
    names may be asked for, and the names shown (by code) once they were."""

    shown: bool
    codes: list[str]
    regulars: int
    next_code: str
    roster: list[RosterEntry] = dataclasses.field(default_factory=list)
    names_offered: bool = False
    names: dict[str, str] = dataclasses.field(default_factory=dict)


def _register(session: ReadingSession, saved: list[str]) -> Register:
    """Codes only, unless names are asked for (``_with_names``): names are offered where the
    organisation keeps them, to those who may see them, when someone on the list has one."""
    if not _shows_register(session, saved):
        return Register(False, [], 0, "")
    roster = group_roster(session.group)
    codes = [person.code for person in roster]
    codes += [code for code in saved if code not in codes]
    regulars = sum(1 for person in roster if person.regular)
    names_offered = (
        session.group.venue.organisation.keep_names
        and may_see_names_on_register(current_user, session.group)
        and roster_has_names(roster)
    )
    return Register(
        True,
        codes,
        regulars,
        next_free_code(session.group, roster),
        roster=roster,
        names_offered=names_offered,
    )


def _with_names(register: Register) -> Register:
    """The register with its names beside the codes, each name shown recorded in the audit
    trail (committed before the page that shows them is made)."""
    names = roster_names(register.roster)
    shown = {e.code: names[e.id] for e in register.roster if e.id in names}
    begin_writing()
    ids = [e.id for e in register.roster if e.id in names]
    save_form(None, lambda: recordmany("view_name", "participant", ids, {"page": "log form"}))
    return replace(register, names=shown)


def _fill_from_session(form: LogSessionForm, session: ReadingSession, saved: list[str]) -> None:
    """What is saved, for an edit; for a first log, only what cannot be a guess (the form token,
    the leader, the kinds of the first texts): the counts and the outcome must be chosen."""
    form.version.data = str(session.version)
    form.form_token.data = new_form_token()
    form.idempotency_key.data = new_form_token()
    if session.status in ("delivered", "cancelled"):
        form.status.data = session.status
    elif session.start_dt > utcnow():
        # A session still to come can only be logged as cancelled.
        form.status.data = "cancelled"
    form.cancellation_reason.data = session.cancellation_reason or ""
    if session.attendance is not None:
        for name in HEADCOUNT_FIELDS:
            getattr(form, name).data = getattr(session.attendance, name)
    form.notes.data = session.notes or ""
    default_leader = session.leader_id
    if default_leader is None and is_leader(current_user):
        default_leader = current_user.id
    form.leader_id.data = default_leader or 0
    form.present.data = saved
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


def _add_error(field: Field, message: str) -> None:
    # A field's errors may be a tuple before validation has run.
    field.errors = [*field.errors, message]


def _entry_from_form(form: LogSessionForm, shows_register: bool) -> SessionLog:
    """The operation's input; what cannot be read is put on its own field as an error."""
    delivered = form.status.data == "delivered"
    register = None
    if delivered and shows_register:
        codes = []
        for raw in form.present.data or []:
            try:
                codes.append(normalise_code(raw))
            except SessionError as error:
                _add_error(form.present, error.message)
        new_codes: tuple[str, ...] = ()
        try:
            new_codes = parse_codes(form.new_codes.data, "new_codes")
        except SessionError as error:
            _add_error(form.new_codes, error.message)
        register = RegisterInput(codes=tuple(codes), new_codes=new_codes)
    new_materials = []
    for entry in form.materials.entries:
        title = (entry.form.title.data or "").strip()
        author = (entry.form.author.data or "").strip()
        if delivered and title and not author and not entry.form.author.errors:
            _add_error(entry.form.author, f"Give the author of “{title}” (or “Anonymous”).")
        if delivered and author and not title and not entry.form.title.errors:
            _add_error(entry.form.title, "Give the title of the text, or clear the author.")
        if title or author:
            new_materials.append(NewMaterial(title, author, entry.form.kind.data))
    if delivered and form.participants.data is None and not form.participants.errors:
        _add_error(form.participants, "Enter how many participants came (0 if nobody did).")
    return SessionLog(
        status=form.status.data or "",
        cancellation_reason=form.cancellation_reason.data,
        headcounts=Headcounts(**{name: _count(getattr(form, name)) for name in HEADCOUNT_FIELDS}),
        new_materials=new_materials,
        register=register,
        notes=form.notes.data,
        leader_id=form.leader_id.data or None,
        confirmed=bool(form.confirm.data),
        entered_late=bool(form.entered_late.data),
    )


def _new_person_name(
    form: LogSessionForm, session: ReadingSession, entry: SessionLog
) -> dict[str, str]:
    """{code: first name} for the one new person given a name, or {} (a problem goes on the
    name's field). Names are kept only where the host organisation keeps them."""
    name = (form.new_name.data or "").strip()
    if not name or form.new_name.errors or entry.status != "delivered":
        return {}
    organisation = session.group.venue.organisation
    if not organisation.keep_names:
        _add_error(form.new_name, names_refused(organisation))
        return {}
    new_codes = entry.register.new_codes if entry.register is not None else ()
    if len(new_codes) != 1:
        _add_error(
            form.new_name,
            "Give a name with one new code; add other people's names on the Participants pages.",
        )
        return {}
    return {new_codes[0].upper(): name}


def _count(field: IntegerField) -> int:
    # A count that could not be read is already an error on its field; 0 keeps the checks going.
    return field.data if isinstance(field.data, int) and not field.errors else 0


def _attach_problems(form: LogSessionForm, problems: list[SessionError]) -> None:
    """The operation's problems, each on its field (one a field: the first is the one to fix)."""
    for problem in problems:
        name = FORM_FIELDS.get(problem.field or "", problem.field or "")
        field = getattr(form, name, None) if name else None
        if field is None or name == "materials":
            form.material_errors.append(problem.message)  # type: ignore[attr-defined]
        elif not field.errors:
            _add_error(field, problem.message)


def _has_errors(form: LogSessionForm) -> bool:
    return bool(_problems(form))


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
            anchor = f"{field.id}-0" if field.name in ("status", "present") else field.id
            problems.append(Problem(anchor, label, message))
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
    register: Register,
    status: int = 200,
    conflict: bool = False,
    already_read: list[str] | None = None,
    confirmations: list[str] | None = None,
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
            confirmations=confirmations or [],
            conflict=conflict,
            editing=_is_edit(session),
            register=register,
            keeps_names=session.group.venue.organisation.keep_names,
            usual=expected_maximum(session.group, exclude_session_id=session.id),
            catalogue=catalogue,
            authors=authors,
            read_before={k: _when(v[-1]) for k, v in read_before.items()},
            already_read=already_read or [],
            saved_register=register_codes(session) if conflict else [],
            group_url=group_url(session.group_id),
            due=_due_by_code(session) if register.shown else {},
        ),
        status,
    )


def _due_by_code(session: ReadingSession) -> dict[str, list[str]]:
    """The group's people due a measure at this session, by code: a reminder beside the
    register that never blocks the log."""
    schedules = group_schedules(session.group)
    if not schedules:
        return {}
    roster = group_roster(session.group)
    due = due_at(session, [person.id for person in roster], schedules)
    return {p.code: [d.describe() for d in due[p.id]] for p in roster if p.id in due}


@dataclass(frozen=True)
class KeySent:
    """The log's idempotency key (None without one), whether a log of this session was
    received with it already, and why it cannot be used (put on its field after validation,
    which would clear it)."""

    key: str | None
    sent_already: bool = False
    error: str | None = None


def _idempotency_key(form: LogSessionForm, session: ReadingSession) -> KeySent:
    try:
        key = check_idempotency_key(form.idempotency_key.data)
        return KeySent(key, key is not None and earlier_receipt(key, session) is not None)
    except SessionError as error:
        return KeySent(None, error=error.message)


def _saved_already(session_id: int) -> ResponseReturnValue:
    flash("This log was saved already; here it is. Use “Edit the log” to change it.", "info")
    return redirect(url_for("logbook.detail", session_id=session_id))


@bp.route("/sessions/<int:session_id>/log", methods=["GET", "POST"])
@reads_first
@login_required
def log(session_id: int) -> ResponseReturnValue:
    session = load_session_for_edit(session_id)
    form = LogSessionForm()
    form.leader_id.choices = _leader_choices(session)
    form.material_errors = []  # type: ignore[attr-defined]
    saved_codes = [code for code, _ in register_codes(session)]
    register = _register(session, saved_codes)
    form.present.choices = [SelectChoice(code, code) for code in register.codes]
    if request.method == "GET":
        _fill_from_session(form, session, saved_codes)
        return _render_log(
            form,
            session,
            register,
            already_read=_already_read_messages(session, list(session.materials)),
        )

    if request.form.get("show_names"):
        # The form as typed, unsaved, with names beside the codes where they may be shown.
        if register.names_offered:
            register = _with_names(register)
        return _render_log(form, session, register, already_read=_typed_already_read(form, session))
    sent = _idempotency_key(form, session)
    if saved_already(form.form_token.data, f"log:{session_id}") or sent.sent_already:
        # The same page sent again (Back, then Save; or a queued log whose reply was lost).
        return _saved_already(session_id)
    form.validate()
    if sent.error:
        _add_error(form.idempotency_key, sent.error)
    entry = _entry_from_form(form, register.shown)
    new_name = _new_person_name(form, session, entry)
    _attach_problems(form, log_problems(session, entry))
    if _has_errors(form):
        return _render_log(
            form, session, register, 400, already_read=_typed_already_read(form, session)
        )
    if not entry.confirmed:
        reasons = unusual_counts(session, entry)
        if reasons:
            return _render_log(
                form,
                session,
                register,
                400,
                already_read=_typed_already_read(form, session),
                confirmations=reasons,
            )
    begin_writing()

    def save() -> list[str] | None:
        if sent.key is not None and receive_once(sent.key, session, current_user) is not None:
            return None  # the same log, sent twice at once: the other request wrote it
        log_session(session, entry, expected_version=int(form.version.data), actor=current_user)
        try:
            name_participants(session.group, new_name)
        except SessionError as error:
            raise SessionError(error.message, "new_name") from None
        # Before the commit, which expires every loaded row: reading one after it is a new query.
        return _already_read_messages(session, list(session.materials))

    editing = _is_edit(session)
    asked: list[str] = []

    def attach(error: FieldError) -> None:
        if isinstance(error, NeedsConfirmation):
            asked.extend(error.reasons)
        else:
            _attach_problems(form, [error])

    saved = save_form(form, save, conflict_notice=True, attach=attach)
    if not saved:
        session = load_session_for_edit(session_id)
        if saved.changed_meanwhile:
            # The next save is a deliberate choice made with both versions in view.
            form.version.data = str(session.version)
            return _render_log(form, session, register, 409, conflict=True)
        return _render_log(
            form,
            session,
            register,
            saved.status,
            already_read=_typed_already_read(form, session),
            confirmations=asked,
        )
    if saved.value is None:
        return _saved_already(session_id)
    remember_saved(form.form_token.data, f"log:{session_id}")
    if editing:
        flash("Changes saved.", "success")
    elif entry.status == "delivered":
        flash("The session has been logged.", "success")
    else:
        flash("The session has been logged as cancelled.", "success")
    for message in saved.value:
        flash(message, "warning")
    return redirect(url_for("logbook.detail", session_id=session_id))


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
            "logbook/import.html",
            group=group,
            form=form,
            errors=errors,
            columns=COLUMNS,
            usual=expected_maximum(group),
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
    data = uploaded_bytes(form.file, MAX_BYTES)
    if data is None:
        return _render(group, form, [], 400)
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
