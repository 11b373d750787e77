"""Forms for the broadcast grid and the episode library (validated at the edge)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..timeutil import is_valid_zone
from ..web.forms import FoldField
from .operations import MAX_DURATION_MINUTES


def _zone(form: FlaskForm, field: StringField) -> None:
    if not is_valid_zone(field.data or ""):
        raise ValidationError("Enter a time zone such as Europe/London.")


class BroadcastForm(FlaskForm):
    episode_id = SelectField("Episode", coerce=int, validators=[DataRequired()])
    air_date = DateField("Date", validators=[DataRequired(message="Enter the date it airs.")])
    air_time = TimeField(
        "Start time", validators=[DataRequired(message="Enter the local start time.")]
    )
    tz_name = StringField("Time zone", default="Europe/London", validators=[DataRequired(), _zone])
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[Optional(), NumberRange(min=1, max=MAX_DURATION_MINUTES)],
    )
    repeat_of_id = SelectField("Repeat of", coerce=int, default=0)
    fold = FoldField()


class MoveForm(FlaskForm):
    air_date = DateField("New date", validators=[DataRequired(message="Enter the new date.")])
    air_time = TimeField(
        "New start time", validators=[DataRequired(message="Enter the new start time.")]
    )
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[Optional(), NumberRange(min=1, max=MAX_DURATION_MINUTES)],
    )
    fold = FoldField()


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[DataRequired(message="Say why it is cancelled."), Length(max=500)],
    )


class ProgrammeForm(FlaskForm):
    station_id = SelectField("Station", coerce=int, validators=[DataRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    description = TextAreaField("Description", validators=[Optional(), Length(max=2000)])


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EpisodeForm(FlaskForm):
    number = IntegerField("Number", validators=[DataRequired(), NumberRange(min=1, max=9999)])
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[DataRequired(), NumberRange(min=1, max=MAX_DURATION_MINUTES)],
    )
    material_ids = MultiCheckboxField("Materials read", coerce=int)
