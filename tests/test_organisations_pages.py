"""Partner organisations and venues: managers create and edit them; bad input is refused."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.organisations.models import Organisation, Venue
from readerapp.organisations.operations import (
    OrganisationData,
    OrganisationError,
    VenueData,
    save_organisation,
    save_venue,
)

from . import groups_support
from .factories import Factory
from .groups_support import fresh
from .world import World, build_world, client_for

deferred_reads = groups_support.deferred_reads
no_csrf = groups_support.no_csrf
pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world() -> World:
    return build_world()


def _count(model: type) -> int:
    fresh()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_manager_creates_an_organisation_and_a_venue(
    app: Flask, world: World, no_csrf: None
) -> None:
    client = client_for(app, world.manager)
    response = client.post(
        "/organisations/new",
        data={
            "name": "Lakeside Library",
            "kind": "library",
            "contact_name": "Lou Librarian",
            "contact_email": "Lou@Library.Example",
            "contact_phone": "0100 000 0000",
        },
    )
    assert response.status_code == 302
    fresh()
    org = db.session.scalar(sa.select(Organisation).where(Organisation.name == "Lakeside Library"))
    assert org.kind == "library" and org.share_location_detail is False
    assert org.contact_email == "Lou@library.example"
    org_id = org.id
    venue = client.post(
        f"/organisations/{org_id}/venues/new",
        data={"name": "Reading Room", "setting_type": "library", "unit": "First floor"},
    )
    assert venue.status_code == 302
    page = client.get(f"/organisations/{org_id}").text
    assert "Reading Room" in page and "First floor" in page
    assert "Lakeside Library" in client.get("/organisations").text
    # The new venue is offered in the group form, with its detail.
    assert "Reading Room, First floor — Lakeside Library" in client.get("/groups/new").text


def test_station_records_prisons_reached_and_share_location_can_be_turned_on(
    app: Flask, world: World, no_csrf: None
) -> None:
    station_id = world.station.id
    response = client_for(app, world.admin).post(
        f"/organisations/{station_id}/edit",
        data={
            "name": "Wave Radio",
            "kind": "radio_station",
            "prisons_reached": "120",
            "share_location_detail": "y",
        },
    )
    assert response.status_code == 302
    fresh()
    station = db.session.get(Organisation, station_id)
    assert (station.prisons_reached, station.share_location_detail) == (120, True)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": "northmoor trust"}, "name"),  # the world's host, in another case
        ({"kind": "spaceship"}, "kind"),
        ({"contact_email": "not-an-email"}, "contact_email"),
        ({"contact_phone": "1" * 41}, "contact_phone"),
        ({"prisons_reached": "12"}, "prisons_reached"),  # not a station
        ({"prisons_reached": "lots"}, "prisons_reached"),
    ],
)
def test_bad_organisation_input_is_an_inline_error_and_writes_nothing(
    app: Flask, world: World, no_csrf: None, changes: dict[str, str], field: str
) -> None:
    before = _count(Organisation)
    data = {"name": "New Org", "kind": "charity"} | changes
    response = client_for(app, world.manager).post("/organisations/new", data=data)
    # A name already taken is a clash (409, as on the API); any other refusal a 400.
    assert response.status_code == (409 if changes.get("name") == "northmoor trust" else 400)
    assert f'id="{field}-error"' in response.text
    assert _count(Organisation) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Northmoor Hospital"}, "name"),  # already a venue of this organisation
        ({"setting_type": "moon_base"}, "setting_type"),
        ({"address": "a" * 501}, "address"),
        ({"unit": "u" * 201}, "unit"),
    ],
)
def test_bad_venue_input_is_an_inline_error_and_writes_nothing(
    app: Flask, world: World, no_csrf: None, changes: dict[str, str], field: str
) -> None:
    before = _count(Venue)
    host_id = world.host.id
    data = {"name": "Annexe", "setting_type": "community_centre"} | changes
    response = client_for(app, world.manager).post(
        f"/organisations/{host_id}/venues/new", data=data
    )
    assert response.status_code == (409 if changes.get("name") == "Northmoor Hospital" else 400)
    assert f'id="{field}-error"' in response.text
    assert _count(Venue) == before


def test_editing_a_venue_and_unknown_ids(app: Flask, world: World, no_csrf: None) -> None:
    host_id, venue_id, other_host_id = world.host.id, world.venue.id, world.other_host.id
    client = client_for(app, world.manager)
    response = client.post(
        f"/organisations/{host_id}/venues/{venue_id}/edit",
        data={"name": "Northmoor Hospital", "setting_type": "acute_hospital", "unit": "Ash Ward"},
    )
    assert response.status_code == 302
    fresh()
    assert db.session.get(Venue, venue_id).unit == "Ash Ward"
    assert client.get(f"/organisations/{other_host_id}/venues/{venue_id}/edit").status_code == 404
    assert client.get("/organisations/999999").status_code == 404
    assert client.get("/organisations/999999/venues/new").status_code == 404


def test_leaders_and_partners_cannot_reach_the_partner_pages(app: Flask, world: World) -> None:
    """They may read the page of an organisation they may see (as in the API), read-only; the
    list and the forms are the staff's."""
    host_id = world.host.id
    for role in ("leader", "partner", "other_partner", "other_leader"):
        client = client_for(app, world.user_for(role))
        assert client.get("/organisations").status_code == 403
        assert client.get(f"/organisations/{host_id}/edit").status_code == 403
    for role in ("other_partner", "other_leader"):
        assert (
            client_for(app, world.user_for(role)).get(f"/organisations/{host_id}").status_code
            == 403
        )
    for role in ("leader", "partner"):
        page = client_for(app, world.user_for(role)).get(f"/organisations/{host_id}")
        assert page.status_code == 200
        assert "Willow Readers" in page.text and "B Wing Readers" not in page.text
        assert f"/organisations/{host_id}/edit" not in page.text
        assert "/venues/new" not in page.text
        # The ward is shown to a partner only where its organisation shares it (this one does not).
        assert ("Willow Ward" in page.text) == (role == "leader")
    nav = client_for(app, world.leader).get("/groups").text
    assert ">Partners<" not in nav
    assert ">Partners<" in client_for(app, world.manager).get("/groups").text


def test_operations_validate_directly(factory: Factory) -> None:
    org = save_organisation(None, OrganisationData(name="  Hilltop Care  ", kind="care_provider"))
    assert org.name == "Hilltop Care"
    with pytest.raises(OrganisationError) as caught:
        save_venue(None, VenueData(organisation_id=987654, name="X", setting_type="care_home"))
    assert caught.value.field == "organisation_id"
    venue = save_venue(None, VenueData(org.id, "Hilltop House", "care_home", unit=" "))
    assert venue.unit is None
    with pytest.raises(OrganisationError) as caught:
        save_organisation(
            org, OrganisationData(name="Hilltop Care", kind="care_provider", prisons_reached=-1)
        )
    assert caught.value.field == "prisons_reached"


def test_a_station_with_programmes_stays_a_station(factory: Factory) -> None:
    station = factory.organisation(name="Wave Radio", kind="radio_station")
    bare = factory.organisation(name="Quiet Radio", kind="radio_station")
    factory.programme(station)
    with pytest.raises(OrganisationError, match="has programmes, so it stays") as caught:
        save_organisation(station, OrganisationData(name="Wave Radio", kind="nhs_trust"))
    assert caught.value.field == "kind"
    # A station without programmes may become something else.
    assert save_organisation(bare, OrganisationData(name="Quiet", kind="library")).kind == "library"
