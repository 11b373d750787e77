"""The referral forms: recording a referral, and moving one on by hand."""

from __future__ import annotations

from wtforms import BooleanField, DateField, EmailField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..attendance.limits import PARTICIPANT_CODE
from ..web.forms import CleanForm
from .limits import REFERRER_EMAIL, REFERRER_NAME, STATUS_REASON
from .models import STATUS_LABELS


class ReferralForm(CleanForm):
    organisation_id = SelectField("Where the person will attend", coerce=int)
    code = StringField(
        "Participant code", validators=[DataRequired(), Length(max=PARTICIPANT_CODE)]
    )
    new_code = BooleanField("Issue this as a new code (not seen yet)")
    referrer_organisation_id = SelectField("Referred by", coerce=int)
    referrer_name = StringField(
        "Referrer's name", validators=[Optional(), Length(max=REFERRER_NAME)]
    )
    referrer_email = EmailField(
        "Referrer's email", validators=[Optional(), Length(max=REFERRER_EMAIL)]
    )
    referred_on = DateField("Date of referral", validators=[InputRequired()])
    reason = SelectField("Reason")


class ReferralStatusForm(CleanForm):
    status = SelectField(
        "New status",
        choices=[SelectChoice(key, label) for key, label in STATUS_LABELS.items()],
    )
    reason = StringField("Reason", validators=[Optional(), Length(max=STATUS_REASON)])
    on_date = DateField("Date", validators=[Optional()])
