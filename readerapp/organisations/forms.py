"""Forms for partner organisations and their venues."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..web.forms import CleanForm
from .models import ORGANISATION_KINDS, SETTING_TYPES
from .operations import MAX_PRISONS, NAME_MAX


def _label(value: str) -> str:
    return value.replace("_", " ").replace("nhs", "NHS").capitalize().replace("Nhs", "NHS")


class OrganisationForm(CleanForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)])
    kind = SelectField("Kind", choices=[SelectChoice(k, _label(k)) for k in ORGANISATION_KINDS])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=200)])
    contact_email = EmailField("Contact email", validators=[Optional(), Length(max=254)])
    contact_phone = StringField("Contact phone", validators=[Optional(), Length(max=40)])
    share_location_detail = BooleanField(
        "Calendar feeds may show the ward, wing or unit of this organisation's venues"
    )
    prisons_reached = IntegerField(
        "Prisons reached", validators=[Optional(), NumberRange(min=0, max=MAX_PRISONS)]
    )


class VenueForm(CleanForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=NAME_MAX)])
    setting_type = SelectField(
        "Setting", choices=[SelectChoice(s, _label(s)) for s in SETTING_TYPES]
    )
    address = TextAreaField("Address", validators=[Optional(), Length(max=500)])
    unit = StringField("Ward, wing or unit", validators=[Optional(), Length(max=200)])


SETTING_LABELS = {s: _label(s) for s in SETTING_TYPES}
KIND_LABELS = {k: _label(k) for k in ORGANISATION_KINDS}
