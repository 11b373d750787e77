"""Collecting answers after a session: a person's answers entered from their paper form, and the
session's anonymous feedback sheets, one at a time. Reached from the session's page by those who
log its sessions (readerapp.access.may_record_answers).

These pages record answers and never show stored ones: the participant's page shows a person's
answer sets, on request and audited."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Optional

from ..access import MAY_LEAD, may_record_answers, require, roles_required
from ..attendance.models import Participant
from ..extensions import db
from ..sessions.models import ReadingSession
from ..sessions.views import load_session
from ..timeutil import utcnow
from ..web.once import new_form_token, remember_saved, saved_already
from ..web.saving import Saved, attach_error, save_form
from .answers import MODE_LABELS, AnswerSetData, answer_problems, consents_in_force, save_answer_set
from .definitions import MeasureDefinition
from .models import AnswerSet, Measure, MeasureVersion
from .queries import anonymous_sheets, present_participants, usable_measures

bp = Blueprint("collecting", __name__, template_folder="templates")

ITEM_PREFIX = "item_"


def _whole_number(value: object) -> int | None:
    """A chosen id; anything that is not a whole number chooses nobody."""
    if isinstance(value, int):
        return value
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _answer_value(value: object) -> object:
    """An item's answer: a whole number, None when left blank, else what was sent, for
    ``answer_problems`` to refuse in the measure's own terms."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if not text:
        return None
    if text.lstrip("-").isdigit() and len(text) <= 6:
        return int(text)
    return text


def _option_label(value: int, label: str) -> str:
    return f"{value} – {label}" if label and label != str(value) else str(value)


class AnswersForm(FlaskForm):
    """The fields every answer set has; one radio group per item is added for the measure."""

    measure_version_id = HiddenField()
    # One save per sheet: a double tap on Save, or Back then Save, does not store it twice.
    form_token = HiddenField()
    answered_on = DateField(
        "Date answered", validators=[InputRequired("Give the date the questions were answered.")]
    )
    mode = RadioField(
        "How the questions were answered",
        choices=[SelectChoice(mode, label) for mode, label in MODE_LABELS.items()],
        default="self_paper",
        validators=[InputRequired("Say how the questions were answered.")],
    )


class PersonAnswersForm(AnswersForm):
    participant_id = RadioField(
        "Whose answers",
        coerce=_whole_number,
        validate_choice=False,
        validators=[InputRequired("Choose whose answers these are.")],
    )


def _form_for(definition: MeasureDefinition, anonymous: bool) -> AnswersForm:
    """The form for this measure: an optional radio group per item, worded exactly."""
    base = AnswersForm if anonymous else PersonAnswersForm
    fields: dict[str, Any] = {
        f"{ITEM_PREFIX}{item.key}": RadioField(
            item.text,
            choices=[SelectChoice(o.value, _option_label(o.value, o.label)) for o in item.options],
            coerce=_answer_value,
            validate_choice=False,  # answer_problems checks, and says which answers are allowed
            validators=[Optional()],
        )
        for item in definition.items
    }
    form_class = type("MeasureAnswersForm", (base,), fields)
    return form_class()


def _field_names(definition: MeasureDefinition) -> dict[str, str]:
    """The operation's input names, as this form spells them."""
    return {f"answers.{item.key}": f"{ITEM_PREFIX}{item.key}" for item in definition.items}


def _answers(form: AnswersForm, definition: MeasureDefinition) -> dict[str, Any]:
    chosen = {item.key: form[f"{ITEM_PREFIX}{item.key}"].data for item in definition.items}
    return {key: value for key, value in chosen.items() if value is not None}


def _load(session_id: int) -> ReadingSession:
    session = load_session(session_id)
    require(may_record_answers(current_user, session.group))
    return session


def _why_not(session: ReadingSession) -> str | None:
    """Why no answers can be recorded for this session, if so."""
    if session.status == "cancelled":
        return "This session was cancelled: there are no answers to record for it."
    if session.start_dt > utcnow():
        return "This session has not happened yet: answers are recorded after it."
    return None


def _chosen_version(use: str) -> tuple[list[tuple[Measure, MeasureVersion]], MeasureVersion | None]:
    """The measures usable so, and the version being entered: the one the form was drawn from
    (a new version loaded meanwhile does not change what was on the paper), else the measure
    asked for, else the only one there is."""
    usable = usable_measures(use)
    posted = request.form.get("measure_version_id", "") if request.method == "POST" else ""
    if posted.isdigit() and len(posted) <= 12:
        return usable, db.session.get(MeasureVersion, int(posted))
    asked = request.args.get("measure")
    for measure, version in usable:
        if measure.key == asked:
            return usable, version
    return usable, usable[0][1] if len(usable) == 1 else None


def _checked(form: AnswersForm, definition: MeasureDefinition, answers: dict[str, Any]) -> bool:
    """Every item's problem on its own radio group at once (the operation stops at the first)."""
    problems = answer_problems(definition, answers)
    for key, message in problems.items():
        attach_error(form, message, f"{ITEM_PREFIX}{key}", None)
    return not problems


def _nothing_to_fill_in(
    template: str, usable: list[tuple[Measure, MeasureVersion]], page: dict[str, Any]
) -> ResponseReturnValue:
    """The page without a form: the session takes no answers, or no measure is chosen yet."""
    if request.method == "GET":
        return _render(template, usable=usable, form=None, **page)
    refused = None if page["why_not"] else "Choose a measure: the one sent is not loaded."
    return _render(template, 400, usable=usable, form=None, refused=refused, **page)


def _render(template: str, status: int = 200, **context: Any) -> ResponseReturnValue:
    return render_template(template, mode_labels=MODE_LABELS, **context), status


def _prefill(form: AnswersForm, version: MeasureVersion, session: ReadingSession) -> None:
    """A blank sheet: the measure chosen, dated the session's day, with a one-time token."""
    form.measure_version_id.data = str(version.id)
    form.answered_on.data = session.local_start.date()
    form.form_token.data = new_form_token()


def _save(
    form: AnswersForm,
    version: MeasureVersion,
    definition: MeasureDefinition,
    session: ReadingSession,
    person: Participant | None,
    answers: dict[str, Any],
) -> Saved[AnswerSet]:
    """Save one sheet, a person's (``person``) or anonymous (None), and commit; or say why not
    on the form."""
    data = AnswerSetData(
        measure_version_id=version.id,
        group=session.group,
        participant=person,
        session=session,
        answered_on=form.answered_on.data,
        mode=form.mode.data,
        answers=answers,
    )
    return save_form(
        form,
        lambda: save_answer_set(data, current_user.id),
        field_names=_field_names(definition),
    )


@bp.route("/sessions/<int:session_id>/answers", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def record_answers(session_id: int) -> ResponseReturnValue:
    """A person's answers, entered from the paper form they filled in (or were read)."""
    session = _load(session_id)
    page = {"s": session, "why_not": _why_not(session)}
    usable, version = _chosen_version("participant")
    if page["why_not"] or version is None:
        return _nothing_to_fill_in("outcomes/record_answers.html", usable, page)
    definition = MeasureDefinition.from_json(version.definition)
    present = present_participants(session)
    consenting = consents_in_force((p.id for p in present), "evaluation")
    form = _form_for(definition, anonymous=False)
    assert isinstance(form, PersonAnswersForm)
    form.participant_id.choices = [
        SelectChoice(p.id, p.code) for p in present if p.id in consenting
    ]
    context = {
        **page,
        "usable": usable,
        "version": version,
        "definition": definition,
        "without_consent": [p for p in present if p.id not in consenting],
        "form": form,
    }
    if request.method == "GET":
        _prefill(form, version, session)
        return _render("outcomes/record_answers.html", **context)
    if saved_already(form.form_token.data, f"answers:{session_id}"):
        flash("These answers were saved already: they are not stored twice.", "info")
        return redirect(url_for(".record_answers", session_id=session_id))
    valid = form.validate_on_submit()
    person = next((p for p in present if p.id == form.participant_id.data), None)
    if person is None and not form.participant_id.errors:
        attach_error(form, "Choose someone ticked present at this session.", "participant_id", None)
    answers = _answers(form, definition)
    if not _checked(form, definition, answers) or not valid or person is None:
        return _render("outcomes/record_answers.html", 400, **context)
    code, measure_key = person.code, version.measure.key
    saved = _save(form, version, definition, session, person, answers)
    if not saved:
        return _render("outcomes/record_answers.html", saved.status, **context)
    remember_saved(form.form_token.data, f"answers:{session_id}")
    answered, asked = len(answers), len(definition.items)
    partial = "" if answered == asked else " (a partial set)"
    flash(
        f"Answers saved for {code}: {answered} of {asked} questions answered{partial}.", "success"
    )
    return redirect(url_for(".record_answers", session_id=session_id, measure=measure_key))


@bp.route("/sessions/<int:session_id>/feedback", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def record_feedback(session_id: int) -> ResponseReturnValue:
    """The session's anonymous feedback, one sheet at a time: no code, nobody named."""
    session = _load(session_id)
    page = {"s": session, "why_not": _why_not(session)}
    usable, version = _chosen_version("anonymous")
    if page["why_not"] or version is None:
        return _nothing_to_fill_in("outcomes/record_feedback.html", usable, page)
    definition = MeasureDefinition.from_json(version.definition)
    form = _form_for(definition, anonymous=True)
    context = {
        **page,
        "usable": usable,
        "version": version,
        "definition": definition,
        "sheets": anonymous_sheets(session, version.id),
        "just_saved": request.method == "GET" and request.args.get("saved") == "1",
        "form": form,
    }
    if request.method == "GET":
        _prefill(form, version, session)
        return _render("outcomes/record_feedback.html", **context)
    if saved_already(form.form_token.data, f"feedback:{session_id}"):
        flash("This sheet was saved already: it is not stored twice.", "info")
        return redirect(url_for(".record_feedback", session_id=session_id))
    valid = form.validate_on_submit()
    answers = _answers(form, definition)
    if not _checked(form, definition, answers) or not valid:
        return _render("outcomes/record_feedback.html", 400, **context)
    measure_key = version.measure.key
    saved = _save(form, version, definition, session, None, answers)
    if not saved:
        return _render("outcomes/record_feedback.html", saved.status, **context)
    remember_saved(form.form_token.data, f"feedback:{session_id}")
    flash("Feedback sheet saved.", "success")
    return redirect(
        url_for(".record_feedback", session_id=session_id, measure=measure_key, saved=1)
    )
