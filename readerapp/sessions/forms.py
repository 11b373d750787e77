"""Forms for logging, cancelling, moving and adding sessions. They check types and lengths at
the edge; the operations check the rules (and the form shows their errors inline)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import NumberInput

from ..attendance.limits import HEADCOUNT
from ..web.forms import FoldField
from .limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
    MATERIAL_AUTHOR,
    MATERIAL_TITLE,
    SESSION_NOTES,
)

MATERIAL_KIND_CHOICES = [
    SelectChoice("short_story", "Short story"),
    SelectChoice("poem", "Poem"),
    SelectChoice("novel_extract", "Novel extract"),
    SelectChoice("play", "Play"),
    SelectChoice("other", "Other"),
]
MATERIAL_ROWS = 3
MAX_MATERIAL_ROWS = 10
MAX_CODES_TEXT = 25_000


def _version(form: FlaskForm, field: HiddenField) -> None:
    if not (field.data or "").isdigit() or len(field.data) > 9:
        raise ValidationError("This form is out of date: reload the page and try again.")


def headcount(label: str) -> IntegerField:
    return IntegerField(
        label,
        default=0,
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


class LogSessionForm(FlaskForm):
    version = HiddenField(validators=[_version])
    status = RadioField(
        "What happened?",
        choices=[SelectChoice("delivered", "Delivered"), SelectChoice("cancelled", "Cancelled")],
        default="delivered",
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
    register_codes = TextAreaField(
        "Present (participant codes)",
        validators=[Optional(), Length(max=MAX_CODES_TEXT)],
        render_kw={"rows": 3, "autocapitalize": "characters", "spellcheck": "false"},
    )
    new_codes = TextAreaField(
        "New codes (people here for the first time)",
        validators=[Optional(), Length(max=MAX_CODES_TEXT)],
        render_kw={"rows": 2, "autocapitalize": "characters", "spellcheck": "false"},
    )
    notes = TextAreaField(
        "Notes", validators=[Optional(), Length(max=SESSION_NOTES)], render_kw={"rows": 3}
    )
    leader_id = SelectField("Leader", coerce=int, validate_choice=True)


class CancelSessionForm(FlaskForm):
    version = HiddenField(validators=[_version])
    reason = TextAreaField(
        "Why is it cancelled?",
        validators=[
            InputRequired(message="Say why the session is cancelled."),
            Length(max=CANCELLATION_REASON),
        ],
        render_kw={"rows": 3},
    )


class RescheduleSessionForm(FlaskForm):
    version = HiddenField(validators=[_version])
    date = DateField("New date", validators=[InputRequired(message="Enter a date.")])
    start_time = TimeField("New start time", validators=[InputRequired(message="Enter a time.")])
    duration_minutes = IntegerField(
        "Length in minutes",
        validators=[
            InputRequired(message="Enter the length in minutes."),
            NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
        ],
        widget=NumberInput(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
    )
    fold = FoldField()


class AddSessionForm(FlaskForm):
    """An extra, one-off session of a group, at a local date and time in the group's zone."""

    date = DateField("Date", validators=[InputRequired(message="Enter a date.")])
    start_time = TimeField("Start time", validators=[InputRequired(message="Enter a time.")])
    duration_minutes = IntegerField(
        "Length in minutes",
        validators=[
            InputRequired(message="Enter the length in minutes."),
            NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
        ],
        widget=NumberInput(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
    )
    leader_id = SelectField("Leader", coerce=int, validate_choice=True)
    fold = FoldField()
