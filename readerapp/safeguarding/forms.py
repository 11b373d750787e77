"""The forms of the safeguarding log: raising a concern, moving it on, granting the capability."""

from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..web.forms import CleanForm
from .limits import CONCERN_TEXT, REFERENCE, REFERRED_TO, WHO_WAS_TOLD
from .models import CONCERN_CATEGORIES


class ConcernForm(CleanForm):
    category = SelectField(
        "Category",
        choices=[SelectChoice("", "Choose one")]
        + [SelectChoice(key, label) for key, label in CONCERN_CATEGORIES.items()],
        validators=[InputRequired()],
    )
    seen_or_said = TextAreaField(
        "What was seen or said", validators=[DataRequired(), Length(max=CONCERN_TEXT)]
    )
    action_taken = TextAreaField(
        "Action taken", validators=[DataRequired(), Length(max=CONCERN_TEXT)]
    )
    who_was_told = StringField("Who was told", validators=[Optional(), Length(max=WHO_WAS_TOLD)])
    occurred_on = DateField("Date it happened", validators=[InputRequired()])
    occurred_time = TimeField("Time it happened", validators=[InputRequired()])


class StatusForm(CleanForm):
    status = SelectField(
        "Next step",
        choices=[
            SelectChoice("referred", "Referred to a partner or agency"),
            SelectChoice("closed", "Closed"),
        ],
    )
    referred_to = StringField(
        "Referred to (partner or agency)", validators=[Optional(), Length(max=REFERRED_TO)]
    )
    reference = StringField("Their reference", validators=[Optional(), Length(max=REFERENCE)])
    outcome = TextAreaField("Outcome", validators=[Optional(), Length(max=CONCERN_TEXT)])


class LeadForm(CleanForm):
    safeguarding_lead = BooleanField("Designated safeguarding lead")
