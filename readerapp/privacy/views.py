"""Participants: codes for staff and leaders; names only for those allowed, every view audited;
erasure on request for admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..access import (
    MAY_LEAD,
    admins_only,
    can_see_participant_name,
    may_ask_for_names,
    may_erase_participants,
    may_record_names,
    may_record_participant_name,
    require,
    roles_required,
)
from ..attendance.limits import PARTICIPANT_NAME, PARTICIPANT_NOTE
from ..attendance.models import Participant
from ..attendance.operations import NameAndNote, record_name_and_note
from ..audit import record, recordmany
from ..extensions import db
from ..web.saving import save_form
from .operations import erase_participant
from .queries import (
    can_list_participant,
    groups_attended,
    organisations_with_participants,
    participants_for,
)

bp = Blueprint("privacy", __name__, template_folder="templates")

# Who may open the participants pages at all (codes and counts; names are decided per person).
PARTICIPANT_ROLES = MAY_LEAD


class ParticipantFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search form changes nothing

    code = StringField("Code starts with", validators=[Optional(), Length(max=40)])
    organisation = SelectField("Organisation", coerce=str, validators=[Optional()])
    names = BooleanField("Show names (each one shown is recorded in the audit trail)")
    page = IntegerField("Page", validators=[Optional(), NumberRange(min=1, max=100_000)])


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I confirm this person asked for their data to be erased",
        validators=[DataRequired("Tick the box to confirm the request.")],
    )


class NameAndNoteForm(FlaskForm):
    display_name = StringField("First name", validators=[Optional(), Length(max=PARTICIPANT_NAME)])
    notes = TextAreaField("Note", validators=[Optional(), Length(max=PARTICIPANT_NOTE)])
    # For those who may record a name but never see one (managers): blank fields keep what is
    # held, so removing it is asked for explicitly.
    remove = BooleanField("Remove the name and note held")


def _may_see_names() -> bool:
    return may_ask_for_names(current_user)


@bp.get("/participants")
@roles_required(PARTICIPANT_ROLES)
def participants() -> ResponseReturnValue:
    form = ParticipantFilterForm(formdata=request.args)
    form.organisation.choices = [SelectChoice("", "All")] + [
        SelectChoice(str(oid), name) for oid, name in organisations_with_participants()
    ]
    if not _may_see_names():
        del form.names
    if request.args and not form.validate():
        return render_template(
            "privacy/participants.html", form=form, rows=[], page=1, show_names=False
        ), 400
    page = form.page.data or 1
    organisation_id = int(form.organisation.data) if form.organisation.data else None
    rows, more = participants_for(current_user, page, form.code.data, organisation_id)
    show_names = _may_see_names() and bool(form.names.data)
    if show_names:
        # Every row listed is in the viewer's own groups (or the viewer is an admin).
        shown = [r.participant.id for r in rows if r.participant.display_name]
        recordmany("view_name", "participant", shown, {"page": "participants"})
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "privacy/participants.html",
        form=form,
        rows=rows,
        page=page,
        show_names=show_names,
        # Every row listed is one the viewer may name (their own groups' people, or staff).
        may_record_names=may_record_names(current_user),
        previous_url=url_for("privacy.participants", **args, page=page - 1) if page > 1 else None,
        next_url=url_for("privacy.participants", **args, page=page + 1) if more else None,
    )


def _load(participant_id: int) -> Participant:
    participant = db.session.get(Participant, participant_id)
    if participant is None:
        abort(404)
    require(can_list_participant(current_user, participant))
    return participant


@bp.get("/participants/<int:participant_id>")
@roles_required(PARTICIPANT_ROLES)
def participant(participant_id: int) -> ResponseReturnValue:
    person = _load(participant_id)
    may_see_name = can_see_participant_name(current_user, person)
    has_personal_data = bool(person.display_name or person.notes)
    # Names are shown on request only, and each showing is recorded.
    show_name = may_see_name and has_personal_data and request.args.get("show") == "name"
    if show_name:
        record("view_name", "participant", person.id, {"page": "participant"})
    return render_template(
        "privacy/participant.html",
        person=person,
        show_name=show_name,
        may_see_name=may_see_name and has_personal_data,
        groups=groups_attended(current_user, person),
        erase_form=EraseForm() if may_erase_participants(current_user) else None,
        may_record_name=may_record_participant_name(current_user, person),
    )


@bp.post("/participants/<int:participant_id>/erase")
@admins_only
def erase(participant_id: int) -> ResponseReturnValue:
    person = _load(participant_id)
    form = EraseForm()
    if form.validate_on_submit():
        saved = save_form(form, lambda: erase_participant(person), field="confirm")
        if saved:
            flash(
                f"Erased. The participant is now known only as {person.code}; "
                "their attendance still counts.",
                "success",
            )
            return redirect(url_for("privacy.participant", participant_id=person.id))
    return render_template(
        "privacy/participant.html",
        person=person,
        show_name=False,
        may_see_name=False,
        groups=groups_attended(current_user, person),
        erase_form=form,
        may_record_name=False,
    ), 400


@bp.route("/participants/<int:participant_id>/name", methods=["GET", "POST"])
@roles_required(PARTICIPANT_ROLES)
def edit_name(participant_id: int) -> ResponseReturnValue:
    person = _load(participant_id)
    require(may_record_participant_name(current_user, person))
    sees_name = can_see_participant_name(current_user, person)
    keeps_names = person.organisation.keep_names
    form = NameAndNoteForm()
    if sees_name:
        del form.remove  # they see what is held, and clear a field to remove it
    if not keeps_names:
        # Codes only: no name fields; a name sent anyway is refused by the operation.
        del form.display_name, form.notes
    if (
        request.method == "GET"
        and sees_name
        and keeps_names
        and (person.display_name or person.notes)
    ):
        form.display_name.data, form.notes.data = person.display_name, person.notes
        record("view_name", "participant", person.id, {"page": "edit_name"})
    if form.validate_on_submit():
        wanted = _name_and_note_asked(form, sees_name)
        saved = save_form(form, lambda: record_name_and_note(person, wanted), field="display_name")
        if saved:
            flash("Name and note saved.", "success")
            return redirect(url_for("privacy.participant", participant_id=person.id))
        person = _load(participant_id)
    status = 400 if form.errors else 200
    return render_template(
        "privacy/name_form.html",
        form=form,
        person=person,
        sees_name=sees_name,
        keeps_names=keeps_names,
    ), status


def _name_and_note_asked(form: NameAndNoteForm, sees_name: bool) -> NameAndNote:
    if "display_name" not in form:
        # The page offered no name fields: only what was sent regardless, for the refusal.
        sent = NameAndNote(request.form.get("display_name"), request.form.get("notes"))
        return NameAndNote(sent.display_name or None, sent.notes or None)
    if "remove" in form and form.remove.data:
        return NameAndNote(display_name="", notes="")
    name, note = form.display_name.data or "", form.notes.data or ""
    if sees_name:
        return NameAndNote(display_name=name, notes=note)
    # Blank keeps what is held, unseen.
    return NameAndNote(display_name=name or None, notes=note or None)
