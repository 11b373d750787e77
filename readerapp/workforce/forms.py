"""Forms for leaders' records, checks, training and hours."""

from __future__ import annotations

from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..groups.forms import optional_int, sensible_date
from ..web.forms import CleanForm
from .limits import ADJUSTED_MINUTES, ADJUSTMENT_REASON, CERTIFICATE_NUMBER_INPUT
from .models import CHECK_TYPE_LABELS, CHECK_TYPES, EMPLOYMENT_TYPES

HOURS_GROUPINGS = {"person": "Person", "group": "Group", "partner": "Partner"}


def course_label(course: str) -> str:
    return course.replace("_", " ").capitalize()


class LeaderRecordForm(CleanForm):
    employment_type = SelectField(
        "Employed as", choices=[SelectChoice(t, t.capitalize()) for t in EMPLOYMENT_TYPES]
    )
    manager_id = SelectField(
        "Manager (told of renewals)", coerce=optional_int, validate_choice=False
    )
    left_on = DateField("Left on", validators=[Optional(), sensible_date])


class CheckForm(CleanForm):
    check_type = SelectField(
        "Check", choices=[SelectChoice(t, CHECK_TYPE_LABELS[t]) for t in CHECK_TYPES]
    )
    # Read, checked and cut to its last four digits by the operation; never stored whole.
    certificate_number = StringField(
        "Certificate number", validators=[DataRequired(), Length(max=CERTIFICATE_NUMBER_INPUT)]
    )
    issued_on = DateField("Issued on", validators=[InputRequired(), sensible_date])
    renewal_due = DateField("Renewal due", validators=[InputRequired(), sensible_date])
    update_service = BooleanField("Subscribed to the DBS update service")
    update_checked_on = DateField(
        "Update service last checked", validators=[Optional(), sensible_date]
    )


class CheckEditForm(CheckForm):
    # Left empty, the last four digits already stored stay.
    certificate_number = StringField(
        "New certificate number",
        validators=[Optional(), Length(max=CERTIFICATE_NUMBER_INPUT)],
    )


class TrainingForm(CleanForm):
    course = SelectField("Course")
    completed_on = DateField("Completed on", validators=[InputRequired(), sensible_date])
    expires_on = DateField("Expires on", validators=[Optional(), sensible_date])

    def set_courses(self, courses: tuple[str, ...]) -> None:
        self.course.choices = [SelectChoice(c, course_label(c)) for c in courses]


class HoursAdjustmentForm(CleanForm):
    user_id = SelectField("Person", coerce=optional_int, validate_choice=False)
    minutes = IntegerField(
        "Minutes to credit (preparation and travel included)",
        validators=[
            InputRequired(),
            NumberRange(min=ADJUSTED_MINUTES.min, max=ADJUSTED_MINUTES.max),
        ],
    )
    reason = StringField("Why", validators=[DataRequired(), Length(max=ADJUSTMENT_REASON)])


class HoursForm(CleanForm):
    class Meta:
        csrf = False

    date_from = DateField("From", validators=[InputRequired(), sensible_date])
    date_to = DateField("To", validators=[InputRequired(), sensible_date])
    by = SelectField("Totals per", choices=[SelectChoice(k, v) for k, v in HOURS_GROUPINGS.items()])


class GroupHoursForm(CleanForm):
    preparation_minutes = IntegerField(
        "Preparation per session (minutes)",
        validators=[
            InputRequired(),
            NumberRange(min=ADJUSTED_MINUTES.min, max=ADJUSTED_MINUTES.max),
        ],
    )
    travel_minutes = IntegerField(
        "Travel per session (minutes)",
        validators=[
            InputRequired(),
            NumberRange(min=ADJUSTED_MINUTES.min, max=ADJUSTED_MINUTES.max),
        ],
    )
