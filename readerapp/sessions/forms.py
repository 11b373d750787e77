"""Forms for cancelling, moving and adding sessions. They check types and lengths at
the edge; the operations check the rules (and the form shows their errors inline)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, NumberRange, ValidationError
from wtforms.widgets import NumberInput

from ..web.forms import FoldField
from .limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
)

MATERIAL_KIND_CHOICES = [
    SelectChoice("short_story", "Short story"),
    SelectChoice("poem", "Poem"),
    SelectChoice("novel_extract", "Novel extract"),
    SelectChoice("play", "Play"),
    SelectChoice("other", "Other"),
]


def check_version_field(form: FlaskForm, field: HiddenField) -> None:
    """The hidden version a form was read at: digits, or the form is out of date."""
    if not (field.data or "").isdigit() or len(field.data) > 9:
        raise ValidationError("This form is out of date: reload the page and try again.")


class CancelSessionForm(FlaskForm):
    version = HiddenField(validators=[check_version_field])
    reason = TextAreaField(
        "Why is it cancelled?",
        validators=[
            InputRequired(message="Say why the session is cancelled."),
            Length(max=CANCELLATION_REASON),
        ],
        render_kw={"rows": 3},
    )


class RescheduleSessionForm(FlaskForm):
    version = HiddenField(validators=[check_version_field])
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
