"""Forms for partner organisations and their venues."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from ..web.forms import CleanForm
from .limits import (
    CONTACT_EMAIL,
    CONTACT_NAME,
    CONTACT_PHONE,
    ORGANISATION_NAME,
    PRISONS_REACHED,
    VENUE_ADDRESS,
    VENUE_NAME,
    VENUE_UNIT,
)
from .models import ORGANISATION_KINDS, SETTING_TYPES


def _label(value: str) -> str:
    return value.replace("_", " ").replace("nhs", "NHS").capitalize().replace("Nhs", "NHS")


class OrganisationForm(CleanForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=ORGANISATION_NAME)])
    kind = SelectField("Kind", choices=[SelectChoice(k, _label(k)) for k in ORGANISATION_KINDS])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=CONTACT_NAME)])
    contact_email = EmailField("Contact email", validators=[Optional(), Length(max=CONTACT_EMAIL)])
    contact_phone = StringField("Contact phone", validators=[Optional(), Length(max=CONTACT_PHONE)])
    share_location_detail = BooleanField(
        "Calendar feeds may show the ward, wing or unit of this organisation's venues"
    )
    keep_names = BooleanField("Keep names: participants may have a first name and a note")
    prisons_reached = IntegerField(
        "Prisons reached",
        validators=[Optional(), NumberRange(min=PRISONS_REACHED.min, max=PRISONS_REACHED.max)],
    )


class VenueForm(CleanForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=VENUE_NAME)])
    setting_type = SelectField(
        "Setting", choices=[SelectChoice(s, _label(s)) for s in SETTING_TYPES]
    )
    address = TextAreaField("Address", validators=[Optional(), Length(max=VENUE_ADDRESS)])
    unit = StringField("Ward, wing or unit", validators=[Optional(), Length(max=VENUE_UNIT)])


SETTING_LABELS = {s: _label(s) for s in SETTING_TYPES}
KIND_LABELS = {k: _label(k) for k in ORGANISATION_KINDS}
