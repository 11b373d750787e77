"""Participants: codes for staff and leaders; names only for those allowed, every view audited;
the consent ledger and, on request and audited, the person's answers to outcome measures;
erasure on request for admins."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..access import (
    MAY_LEAD,
    admins_only,
    can_see_participant_name,
    local_today,
    may_ask_for_names,
    may_erase_participants,
    may_record_consent,
    may_record_names,
    may_record_participant_name,
    may_see_answers,
    require,
    roles_required,
)
from ..attendance.limits import PARTICIPANT_NAME, PARTICIPANT_NOTE
from ..attendance.models import Participant
from ..attendance.operations import NameAndNote, record_name_and_note
from ..audit import record, recordmany
from ..extensions import db
from ..outcomes.answers import MODE_LABELS, record_consent
from ..outcomes.consent import WORDINGS
from ..outcomes.models import CONSENT_PURPOSES
from ..outcomes.queries import PurposeLedger, answer_sets_of, consent_ledger, count_answer_sets
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


class ConsentForm(FlaskForm):
    """One purpose's entry in the consent ledger (each purpose has its own form, prefixed)."""

    change = RadioField(
        "The person's answer",
        choices=[
            SelectChoice("given", "Consent given"),
            SelectChoice("withdrawn", "Consent withdrawn"),
        ],
        validators=[InputRequired("Say whether consent was given or withdrawn.")],
    )
    on_date = DateField(
        "On", validators=[InputRequired("Give the date consent was given or withdrawn.")]
    )


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


def _consent_forms(
    person: Participant, ledger: list[PurposeLedger], posted: tuple[str, ConsentForm] | None = None
) -> dict[str, ConsentForm]:
    """A form per purpose, offering the change from the person's current answer, dated today
    (local); the one just posted keeps what was typed and its errors."""
    if person.erased_at is not None or not may_record_consent(current_user, person):
        # A refused entry still shows why, where it was typed.
        return dict([posted]) if posted is not None else {}
    forms = {}
    for purpose in ledger:
        key = purpose.wording.purpose
        if posted is not None and posted[0] == key:
            forms[key] = posted[1]
            continue
        form = ConsentForm(prefix=key, formdata=None)
        form.change.data = "withdrawn" if purpose.in_force else "given"
        form.on_date.data = local_today()
        forms[key] = form
    return forms


def _participant_page(
    person: Participant,
    *,
    show_name: bool = False,
    may_see_name: bool = False,
    erase_form: EraseForm | None = None,
    may_record_name: bool = False,
    consent_posted: tuple[str, ConsentForm] | None = None,
    show_answers: bool = False,
) -> str:
    ledger = consent_ledger(person.id)
    # What a person agreed to is part of their health record: every showing of an entry is
    # recorded, as answers are.
    recordmany(
        "view_consent",
        "consent_record",
        [entry.id for purpose in ledger for entry in purpose.history],
        {"page": "participant", "participant_id": person.id},
    )
    sees_answers = may_see_answers(current_user, person)
    answer_sets = answer_sets_of(person.id) if sees_answers and show_answers else None
    if answer_sets:
        # Answers are health data: every showing is recorded, one event per answer set.
        recordmany(
            "view_answers",
            "answer_set",
            [shown.id for shown in answer_sets],
            {"page": "participant", "participant_id": person.id},
        )
    return render_template(
        "privacy/participant.html",
        person=person,
        show_name=show_name,
        may_see_name=may_see_name,
        groups=groups_attended(current_user, person),
        erase_form=erase_form,
        may_record_name=may_record_name,
        ledger=ledger,
        consent_forms=_consent_forms(person, ledger, consent_posted),
        answer_count=count_answer_sets(person.id) if sees_answers else 0,
        answer_sets=answer_sets,
        mode_labels=MODE_LABELS,
    )


@bp.get("/participants/<int:participant_id>")
@roles_required(PARTICIPANT_ROLES)
def participant(participant_id: int) -> ResponseReturnValue:
    person = _load(participant_id)
    may_see_name = can_see_participant_name(current_user, person)
    has_personal_data = bool(person.display_name or person.notes)
    # Names are shown on request only, and each showing is recorded.
    shown = request.args.get("show")
    show_name = may_see_name and has_personal_data and shown == "name"
    if show_name:
        record("view_name", "participant", person.id, {"page": "participant"})
    return _participant_page(
        person,
        show_name=show_name,
        may_see_name=may_see_name and has_personal_data,
        erase_form=EraseForm() if may_erase_participants(current_user) else None,
        may_record_name=may_record_participant_name(current_user, person),
        show_answers=shown == "answers",
    )


@bp.post("/participants/<int:participant_id>/consent/<purpose>")
@roles_required(PARTICIPANT_ROLES)
def record_consent_entry(participant_id: int, purpose: str) -> ResponseReturnValue:
    if purpose not in CONSENT_PURPOSES:
        abort(404)
    person = _load(participant_id)
    require(may_record_consent(current_user, person))
    form = ConsentForm(prefix=purpose)
    status = 400
    if form.validate_on_submit():
        given = form.change.data == "given"
        saved = save_form(
            form,
            lambda: record_consent(person, purpose, given, form.on_date.data, current_user.id),
            field_names={"given": "change"},
        )
        if saved:
            state = "given" if given else "withdrawn"
            label = WORDINGS[purpose].label
            flash(
                f"{label}: consent {state} on {form.on_date.data:%-d %B %Y}, recorded.", "success"
            )
            return redirect(
                url_for("privacy.participant", participant_id=person.id, _anchor="consent")
            )
        status = saved.status
    return _participant_page(
        person,
        may_see_name=False,
        erase_form=EraseForm() if may_erase_participants(current_user) else None,
        may_record_name=may_record_participant_name(current_user, person),
        consent_posted=(purpose, form),
    ), status


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
    return _participant_page(person, erase_form=form), 400


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
