"""Forms for groups, their patterns and their partnerships. The views fill in the choices."""

from __future__ import annotations

from datetime import date
from typing import Any

from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from ..limits import YEARS
from ..organisations.models import PARTNERSHIP_ROLES
from ..web.forms import CleanForm
from .limits import (
    AUDIENCE_NOTES,
    CAPACITY,
    DURATION_MINUTES,
    EXPECTED_MAX,
    GROUP_NAME,
    ROOM,
    RRULE,
    TZ_NAME,
)
from .models import GROUP_STATUSES
from .patterns import FREQUENCIES, MAX_COUNT, MAX_INTERVAL, MONTH_ORDINALS, WEEKDAYS
from .recurrence import DAY_NAMES

EARLIEST = date(YEARS.min, 1, 1)
LATEST = date(YEARS.max, 12, 31)
END_CHOICES = [
    SelectChoice("none", "No end date"),
    SelectChoice("last_date", "On a last date"),
    SelectChoice("count", "After a number of sessions"),
]


def optional_int(value: Any) -> int | None:
    """Coerce a select's value; the empty option means none."""
    if value in (None, ""):
        return None
    return int(value)


def sensible_date(form: CleanForm, field: DateField) -> None:
    if field.data is not None and not EARLIEST <= field.data <= LATEST:
        raise ValidationError(f"Enter a date between {EARLIEST.year} and {LATEST.year}.")


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class GroupForm(CleanForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=GROUP_NAME)])
    venue_id = SelectField("Venue", coerce=optional_int, validators=[InputRequired()])
    room = StringField("Room or ward", validators=[Optional(), Length(max=ROOM)])
    lead_leader_id = SelectField("Lead reader leader", coerce=optional_int)
    coleader_ids = SelectMultipleField("Co-leaders", coerce=int)
    status = SelectField(
        "Status",
        choices=[SelectChoice(s, s.capitalize()) for s in GROUP_STATUSES],
        default="active",
    )
    capacity = IntegerField(
        "Capacity", validators=[Optional(), NumberRange(min=CAPACITY.min, max=CAPACITY.max)]
    )
    audience_notes = TextAreaField(
        "Who the group is for", validators=[Optional(), Length(max=AUDIENCE_NOTES)]
    )
    expected_max = IntegerField(
        "Usual most participants",
        validators=[Optional(), NumberRange(min=EXPECTED_MAX.min, max=EXPECTED_MAX.max)],
        render_kw={"inputmode": "numeric"},
    )
    keeps_register = BooleanField(
        "Keeps a register of participant codes (untick for a headcount only)", default=True
    )

    # The pattern builder
    frequency = RadioField(
        "How often",
        choices=[SelectChoice(k, v) for k, v in FREQUENCIES.items()],
        default="weekly",
    )
    interval = IntegerField(
        "Every how many weeks", validators=[Optional(), NumberRange(min=2, max=MAX_INTERVAL)]
    )
    weekdays = CheckboxesField("On", choices=[SelectChoice(k, v) for k, v in DAY_NAMES.items()])
    month_ordinal = SelectField(
        "Week of the month",
        coerce=optional_int,
        choices=[SelectChoice("", "—")]
        + [SelectChoice(str(k), v) for k, v in MONTH_ORDINALS.items()],
    )
    month_day = SelectField(
        "Day",
        choices=[SelectChoice("", "—")] + [SelectChoice(d, DAY_NAMES[d]) for d in WEEKDAYS],
        default="",
    )
    custom_rule = StringField("Custom rule", validators=[Optional(), Length(max=RRULE)])
    start_time = TimeField("Start time", validators=[InputRequired()])
    duration_minutes = IntegerField(
        "Length in minutes",
        default=90,
        validators=[
            InputRequired(),
            NumberRange(min=DURATION_MINUTES.min, max=DURATION_MINUTES.max),
        ],
    )
    tz_name = StringField(
        "Time zone", default="Europe/London", validators=[DataRequired(), Length(max=TZ_NAME)]
    )
    first_date = DateField("First date", validators=[InputRequired(), sensible_date])
    end = RadioField("Ends", choices=END_CHOICES, default="none")
    last_date = DateField("Last date", validators=[Optional(), sensible_date])
    count = IntegerField(
        "Number of sessions", validators=[Optional(), NumberRange(min=1, max=MAX_COUNT)]
    )
    excluded_dates = TextAreaField(
        "Dates without a session", validators=[Optional(), Length(max=20_000)]
    )

    def validate(self, extra_validators: Any = None) -> bool:
        """Fields that the chosen frequency or ending makes required (Optional() would skip an
        inline validator on an empty field, so these checks run here)."""
        valid = super().validate(extra_validators)
        needed = [
            (self.end.data == "last_date", self.last_date, "Enter the last date."),
            (self.end.data == "count", self.count, "Enter the number of sessions."),
            (
                self.frequency.data == "every_n_weeks",
                self.interval,
                "Enter how many weeks apart the sessions are.",
            ),
            (
                self.frequency.data == "custom",
                self.custom_rule,
                "Enter the rule, e.g. FREQ=WEEKLY;BYDAY=TU.",
            ),
        ]
        for applies, field, message in needed:
            if applies and not field.errors and field.data in (None, ""):
                field.errors = [*field.errors, message]
                valid = False
        return valid


class PartnershipForm(CleanForm):
    organisation_id = SelectField("Organisation", coerce=optional_int, validators=[InputRequired()])
    role = SelectField(
        "Role", choices=[SelectChoice(r, r.capitalize()) for r in PARTNERSHIP_ROLES], default="host"
    )
    start_date = DateField("From", validators=[InputRequired(), sensible_date])
    end_date = DateField("Until", validators=[Optional(), sensible_date])

    def validate_end_date(self, field: DateField) -> None:
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError("The end date must be on or after the start date.")
