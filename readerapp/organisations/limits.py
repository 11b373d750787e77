"""Field limits of organisations and venues, read by forms, API schemas and operations."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import Organisation, Venue

ORGANISATION_NAME = length_of(Organisation.name)
CONTACT_NAME = length_of(Organisation.contact_name)
CONTACT_EMAIL = length_of(Organisation.contact_email)
CONTACT_PHONE = length_of(Organisation.contact_phone)
PRISONS_REACHED = Bounds(0, 10_000)
VENUE_NAME = length_of(Venue.name)
VENUE_ADDRESS = length_of(Venue.address)
VENUE_UNIT = length_of(Venue.unit)
