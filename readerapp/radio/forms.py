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

from ..timeutil import canonical_zones
from ..web.forms import FoldField
from .limits import (
    CANCELLATION_REASON,
    DURATION_MINUTES,
    EPISODE_NUMBER,
    EPISODE_TITLE,
    PROGRAMME_DESCRIPTION,
    PROGRAMME_TITLE,
    TZ_NAME,
)


def _listed_zone(form: FlaskForm, field: SelectField) -> None:
    if field.data not in canonical_zones():
        raise ValidationError("Choose a time zone from the list, such as Europe/London.")


class BroadcastForm(FlaskForm):
    episode_id = SelectField("Episode", coerce=int, validators=[DataRequired()])
    air_date = DateField("Date", validators=[DataRequired(message="Enter the date it airs.")])
    air_time = TimeField(
        "Start time", validators=[DataRequired(message="Enter the local start time.")]
    )
    # A list of canonical zones: free text invited typing slips and aliases ("GB").
    tz_name = SelectField(
        "Time zone",
        default="Europe/London",
        choices=lambda: list(canonical_zones()),
        validate_choice=False,  # _listed_zone says it in words
        validators=[DataRequired(), Length(max=TZ_NAME), _listed_zone],
    )
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[Optional(), NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max)],
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
        validators=[Optional(), NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max)],
    )
    fold = FoldField()


class CancelForm(FlaskForm):
    reason = TextAreaField(
        "Reason",
        validators=[
            DataRequired(message="Say why it is cancelled."),
            Length(max=CANCELLATION_REASON),
        ],
    )


class ProgrammeForm(FlaskForm):
    station_id = SelectField("Station", coerce=int, validators=[DataRequired()])
    title = StringField("Title", validators=[DataRequired(), Length(max=PROGRAMME_TITLE)])
    description = TextAreaField(
        "Description", validators=[Optional(), Length(max=PROGRAMME_DESCRIPTION)]
    )


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class EpisodeForm(FlaskForm):
    number = IntegerField(
        "Number",
        validators=[DataRequired(), NumberRange(min=EPISODE_NUMBER.min, max=EPISODE_NUMBER.max)],
    )
    title = StringField("Title", validators=[DataRequired(), Length(max=EPISODE_TITLE)])
    duration_minutes = IntegerField(
        "Duration (minutes)",
        validators=[
            DataRequired(),
            NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
        ],
    )
    material_ids = MultiCheckboxField("Materials read", coerce=int)
