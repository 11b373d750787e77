"""The log form: what happened at a session, the texts read and its attendance. It checks types
and lengths at the edge; the operation checks the rules (and the form shows its errors inline)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget, NumberInput

from ..attendance.limits import HEADCOUNT, PARTICIPANT_NAME
from ..sessions.forms import MATERIAL_KIND_CHOICES, check_version_field
from ..sessions.limits import CANCELLATION_REASON, MATERIAL_AUTHOR, MATERIAL_TITLE, SESSION_NOTES

MATERIAL_ROWS = 3
MAX_MATERIAL_ROWS = 10
MAX_CODES_TEXT = 25_000


def headcount(label: str) -> IntegerField:
    # No default: a first log starts empty, so an untouched form cannot pass as "0 came".
    return IntegerField(
        label,
        validators=[
            Optional(),
            NumberRange(
                min=HEADCOUNT.min,
                max=HEADCOUNT.max,
                message=f"Enter {HEADCOUNT.min} to {HEADCOUNT.max}.",
            ),
        ],
        widget=NumberInput(min=HEADCOUNT.min, max=HEADCOUNT.max),
        render_kw={"inputmode": "numeric"},
    )


class MaterialEntryForm(Form):
    """One text read: title and author, matched against the catalogue."""

    title = StringField(
        "Title",
        validators=[Optional(), Length(max=MATERIAL_TITLE)],
        render_kw={"list": "catalogue-titles", "autocomplete": "off"},
    )
    author = StringField(
        "Author",
        validators=[Optional(), Length(max=MATERIAL_AUTHOR)],
        render_kw={"list": "catalogue-authors", "autocomplete": "off"},
    )
    kind = SelectField("Kind", choices=MATERIAL_KIND_CHOICES, default="short_story")


class TickList(SelectMultipleField):
    """Checkboxes, one per choice: the register's tick-list."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class LogSessionForm(FlaskForm):
    version = HiddenField(validators=[check_version_field])
    # One per form page: a second submission of the same page (Back, then Save) is recognised.
    form_token = HiddenField()
    # One per log, kept with it on the server: a log queued on the device and sent again after
    # a lost reply is written once. The page makes one; the device makes one per queued log.
    idempotency_key = HiddenField("Sending")
    status = RadioField(
        "What happened?",
        choices=[SelectChoice("delivered", "Delivered"), SelectChoice("cancelled", "Cancelled")],
        validators=[InputRequired(message="Choose delivered or cancelled.")],
    )
    cancellation_reason = TextAreaField(
        "Why was it cancelled?",
        validators=[Optional(), Length(max=CANCELLATION_REASON)],
        render_kw={"rows": 2},
    )
    participants = headcount("Participants")
    first_time = headcount("Of whom here for the first time")
    staff_carers = headcount("Staff and carers")
    volunteers = headcount("Volunteers")
    materials = FieldList(
        FormField(MaterialEntryForm),
        min_entries=MATERIAL_ROWS,
        max_entries=MAX_MATERIAL_ROWS,
    )
    # The choices are the group's roster, set by the view; a code no longer on it is refused.
    present = TickList("Who came", validate_choice=False)
    new_codes = StringField(
        "New people (codes)",
        validators=[Optional(), Length(max=MAX_CODES_TEXT)],
        render_kw={"autocapitalize": "characters", "spellcheck": "false", "autocomplete": "off"},
    )
    # Where the host organisation keeps names: the first name of the one new person above.
    new_name = StringField(
        "First name of the new person (optional)",
        validators=[Optional(), Length(max=PARTICIPANT_NAME)],
        render_kw={"autocomplete": "off"},
    )
    confirm = BooleanField("Yes, these counts are right")
    entered_late = BooleanField("I'm logging this later from paper")
    notes = TextAreaField(
        "Notes", validators=[Optional(), Length(max=SESSION_NOTES)], render_kw={"rows": 3}
    )
    leader_id = SelectField("Leader", coerce=int, validate_choice=True)
