"""Writes to organisations and venues. Operations flush; the request commits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email

from ..errors import FieldError
from ..extensions import db
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
from .models import ORGANISATION_KINDS, SETTING_TYPES, Organisation, Venue


class OrganisationError(FieldError):
    """An organisation or venue cannot be saved as asked; ``field`` names the form field and
    ``conflict`` says the name is taken (the API answers 409, not 422)."""


@dataclass
class OrganisationData:
    name: str
    kind: str
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    share_location_detail: bool = False
    prisons_reached: int | None = None
    keep_names: bool = False


@dataclass
class VenueData:
    organisation_id: int
    name: str
    setting_type: str
    address: str | None = None
    unit: str | None = None


def _text(value: str | None, limit: int, field: str, label: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise OrganisationError(f"the {label} must be at most {limit} characters", field)
    return value


# Radio builds on organisations, not the reverse: it registers here what holds a station to its
# kind (its programmes), so organisations never import radio.
STATION_HOLDS: dict[str, Callable[[Organisation], bool]] = {}


def _held_as_station(organisation: Organisation) -> str | None:
    """What the station holds that needs it to stay a station (e.g. "programmes"), or None."""
    for what, holds in STATION_HOLDS.items():
        if holds(organisation):
            return what
    return None


# Attendance builds on organisations: it registers here how many of an organisation's
# participants hold a name or a note, so names are never switched off while some are held.
NAMES_HELD: dict[str, Callable[[Organisation], int]] = {}


def _names_held(organisation: Organisation) -> int:
    return sum(count(organisation) for count in NAMES_HELD.values())


def save_organisation(organisation: Organisation | None, data: OrganisationData) -> Organisation:
    """Create (``organisation`` None) or change an organisation, checking every field first."""
    name = _text(data.name, ORGANISATION_NAME, "name", "name")
    if name is None:
        raise OrganisationError("enter a name", "name")
    clash = sa.select(Organisation.id).where(sa.func.lower(Organisation.name) == name.lower())
    if organisation is not None:
        clash = clash.where(Organisation.id != organisation.id)
    if db.session.scalar(clash) is not None:
        raise OrganisationError(
            f"there is already an organisation called {name!r}", "name", conflict=True
        )
    if data.kind not in ORGANISATION_KINDS:
        raise OrganisationError("choose a kind from the list", "kind")
    if (
        organisation is not None
        and organisation.kind == "radio_station"
        and data.kind != "radio_station"
        and (held := _held_as_station(organisation))
    ):
        raise OrganisationError(f"this station has {held}, so it stays a radio station", "kind")
    contact_name = _text(data.contact_name, CONTACT_NAME, "contact_name", "contact name")
    email = _text(data.contact_email, CONTACT_EMAIL, "contact_email", "email")
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise OrganisationError(f"not a valid email address: {exc}", "contact_email") from exc
    phone = _text(data.contact_phone, CONTACT_PHONE, "contact_phone", "phone number")
    prisons = data.prisons_reached
    if prisons is not None:
        if data.kind != "radio_station":
            raise OrganisationError("only radio stations reach prisons", "prisons_reached")
        if not PRISONS_REACHED.min <= prisons <= PRISONS_REACHED.max:
            raise OrganisationError(
                f"enter {PRISONS_REACHED.min} to {PRISONS_REACHED.max}", "prisons_reached"
            )
    keep_names = bool(data.keep_names)
    if organisation is not None and organisation.keep_names and not keep_names:
        held = _names_held(organisation)
        if held:
            raise OrganisationError(
                f"{held} of this organisation's participants still have a name or a note: "
                "remove them first (or let retention clear them), then switch names off",
                "keep_names",
            )
    if organisation is None:
        organisation = Organisation()
        db.session.add(organisation)
    organisation.name = name
    organisation.kind = data.kind
    organisation.contact_name = contact_name
    organisation.contact_email = email
    organisation.contact_phone = phone
    organisation.share_location_detail = bool(data.share_location_detail)
    organisation.prisons_reached = prisons
    organisation.keep_names = keep_names
    db.session.flush()
    return organisation


def save_venue(venue: Venue | None, data: VenueData) -> Venue:
    """Create (``venue`` None) or change a venue of an organisation."""
    organisation = (
        db.session.get(Organisation, data.organisation_id)
        if isinstance(data.organisation_id, int)
        else None
    )
    if organisation is None:
        raise OrganisationError("choose an organisation from the list", "organisation_id")
    name = _text(data.name, VENUE_NAME, "name", "name")
    if name is None:
        raise OrganisationError("enter a name", "name")
    clash = sa.select(Venue.id).where(
        Venue.organisation_id == organisation.id, sa.func.lower(Venue.name) == name.lower()
    )
    if venue is not None:
        clash = clash.where(Venue.id != venue.id)
    if db.session.scalar(clash) is not None:
        raise OrganisationError(
            f"{organisation.name} already has a venue called {name!r}", "name", conflict=True
        )
    if data.setting_type not in SETTING_TYPES:
        raise OrganisationError("choose a setting from the list", "setting_type")
    address = _text(data.address, VENUE_ADDRESS, "address", "address")
    unit = _text(data.unit, VENUE_UNIT, "unit", "ward, wing or unit")
    if venue is None:
        venue = Venue()
        db.session.add(venue)
    venue.organisation_id = organisation.id
    venue.name = name
    venue.setting_type = data.setting_type
    venue.address = address
    venue.unit = unit
    db.session.flush()
    return venue
