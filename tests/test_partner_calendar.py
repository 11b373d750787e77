"""Partners subscribe themselves on their Calendar page; staff send an address by email through
the outbox; nothing logs or audits the secret."""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.feeds.models import FeedToken
from readerapp.notifications.models import OutboxMessage

from .audit_support import all_changes_text
from .factories import Factory
from .feed_checks import (
    commit_before_requests,  # noqa: F401  (a fixture)
    events_by_uid,
    fetch,
    get_calendar,
    new_feed,
)
from .world import World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("commit_before_requests")

ADDRESS = re.compile(r'id="feed-address" type="text" readonly value="([^"]+)"')
GOOGLE = re.compile(r'id="subscribe-google" href="([^"]+)"')
OUTLOOK = re.compile(r'id="subscribe-outlook" href="([^"]+)"')
WEBCAL = re.compile(r'id="subscribe-webcal" href="([^"]+)"')


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def world() -> World:
    return build_world()


def _as(client: FlaskClient, user: object) -> FlaskClient:
    sign_in_as(client, user)  # type: ignore[arg-type]
    return client


def _found(pattern: re.Pattern[str], page: str) -> str:
    match = pattern.search(page)
    assert match, pattern.pattern
    return html.unescape(match.group(1))


def _path(url: str) -> str:
    return urlsplit(url).path


def _make_address(client: FlaskClient, scope: str = "organisation") -> str:
    response = client.post(f"/my-calendar/{scope}/address")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    return response.get_data(as_text=True)


def test_a_partner_finds_its_calendar_in_the_menu(client: FlaskClient, world: World) -> None:
    page = _as(client, world.partner).get("/my-calendar/").get_data(as_text=True)
    assert 'href="/my-calendar/"' in page
    assert "Create my calendar address" in page
    assert "Shared Reading: Northmoor Trust" in page
    leader_page = _as(client, world.leader).get("/calendar-feeds/").get_data(as_text=True)
    assert 'href="/my-calendar/"' not in leader_page


def test_the_pages_links_subscribe_to_a_valid_feed_of_the_partners_groups(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    page = _make_address(_as(client, world.partner))
    https = _found(ADDRESS, page)
    assert https.startswith("http://localhost/feeds/") and https.endswith(".ics")
    # Google Calendar's "From URL" flow is given the webcal address, encoded whole.
    google = urlsplit(_found(GOOGLE, page))
    assert (google.scheme, google.netloc, google.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    webcal = _found(WEBCAL, page)
    assert parse_qs(google.query) == {"cid": [webcal]}
    assert webcal == "webcal://" + https.split("://", 1)[1]
    outlook = urlsplit(_found(OUTLOOK, page))
    assert (outlook.netloc, outlook.path) == ("outlook.live.com", "/calendar/0/addfromweb")
    assert parse_qs(outlook.query) == {
        "url": [https],
        "name": ["Shared Reading: Northmoor Trust"],
    }
    # Fetched as a calendar app would (no sign-in), each is a valid feed of the partner's groups.
    anonymous = client.application.test_client()
    calendar = get_calendar(anonymous, _path(https))
    assert get_calendar(anonymous, _path(webcal)) is not None
    summaries = {str(e["SUMMARY"]) for e in events_by_uid(calendar).values()}
    assert any("Willow Readers" in s for s in summaries)
    assert not any("B Wing Readers" in s for s in summaries)
    # Later visits say an address exists, never what it is.
    again = client.get("/my-calendar/").get_data(as_text=True)
    assert "You made your address on" in again and _path(https) not in again


def test_rotate_retires_the_old_address_and_revoke_ends_it(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    _as(client, world.partner)
    first = _path(_found(ADDRESS, _make_address(client)))
    token = db.session.scalar(sa.select(FeedToken).where(FeedToken.revoked_at.is_(None)))
    assert token is not None and token.created_by_id == world.partner.id
    rotated = client.post(f"/my-calendar/{token.id}/rotate")
    assert rotated.status_code == 200 and rotated.headers["Cache-Control"] == "no-store"
    second = _path(_found(ADDRESS, rotated.get_data(as_text=True)))
    assert second != first
    assert fetch(client, first).status_code == 404
    assert fetch(client, second).status_code == 200
    # Making the address again also retires the one before: one live address each.
    third = _path(_found(ADDRESS, _make_address(client)))
    assert fetch(client, second).status_code == 404
    live = db.session.scalars(
        sa.select(FeedToken).where(FeedToken.revoked_at.is_(None), FeedToken.scope != "leader")
    ).all()
    assert len(live) == 1
    revoked = client.post(f"/my-calendar/{live[0].id}/revoke")
    assert revoked.status_code == 302
    assert fetch(client, third).status_code == 404
    assert "Create my calendar address" in client.get("/my-calendar/").get_data(as_text=True)


def test_a_partner_manages_only_its_own_addresses(app: Flask, world: World, no_csrf: None) -> None:
    own = _as(app.test_client(), world.partner)
    _make_address(own)
    mine = db.session.scalar(sa.select(FeedToken).where(FeedToken.revoked_at.is_(None)))
    assert mine is not None
    other = _as(app.test_client(), world.other_partner)
    assert other.post(f"/my-calendar/{mine.id}/rotate").status_code == 403
    assert other.post(f"/my-calendar/{mine.id}/revoke").status_code == 403
    # An address staff made for the organisation stays staff's to manage.
    staff_made = _as(app.test_client(), world.manager).post(
        "/calendar-feeds/", data={"scope": "organisation", "organisation_id": world.host.id}
    )
    assert staff_made.status_code == 200
    theirs = db.session.scalar(
        sa.select(FeedToken).where(FeedToken.created_by_id == world.manager.id)
    )
    assert theirs is not None
    assert own.post(f"/my-calendar/{theirs.id}/revoke").status_code == 403
    # Only the feeds of its own organisation; a station feed only for a station.
    assert own.post("/my-calendar/station/address").status_code == 404
    assert own.post("/my-calendar/group/address").status_code == 404
    assert own.get("/calendar-feeds/").status_code == 403


def test_a_station_partner_subscribes_to_its_broadcasts_too(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    station_user = Factory().user("partner_viewer", organisation_id=world.station.id)
    db.session.commit()
    _as(client, station_user)
    page = client.get("/my-calendar/").get_data(as_text=True)
    assert "Wave Radio: Shared Reading broadcasts" in page
    shown = _make_address(client, "station")
    assert "name=Wave%20Radio%3A%20Shared%20Reading%20broadcasts" in html.unescape(shown)
    calendar = get_calendar(client, _path(_found(ADDRESS, shown)))
    assert any("Where We Begin" in str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))


def test_staff_send_an_address_through_the_outbox_and_no_log_or_audit_holds_it(
    client: FlaskClient,
    world: World,
    no_csrf: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _as(client, world.manager)
    form = client.get("/calendar-feeds/send").get_data(as_text=True)
    assert f'value="user:{world.partner.id}"' in form
    to_partner = {"recipient": f"user:{world.partner.id}", "feed": "organisation"}
    sent = client.post("/calendar-feeds/send", data=to_partner)
    assert sent.status_code == 302
    message = db.session.scalars(sa.select(OutboxMessage)).one()
    assert message.recipient == world.partner.email and message.kind == "feed_address"
    assert message.status == "queued"
    found = re.search(r"Web address: (\S+)", message.body)
    assert found
    address = found.group(1)
    raw = _path(address).removeprefix("/feeds/").removesuffix(".ics")
    assert "calendar.google.com/calendar/render?cid=webcal" in message.body
    token = db.session.scalars(sa.select(FeedToken)).one()
    assert token.label == f"Sent to {world.partner.email}"
    # The address works; the manager never saw it, and no log line or audit value carries it.
    assert fetch(client, _path(address)).status_code == 200
    assert raw not in sent.get_data(as_text=True)
    assert raw not in client.get("/calendar-feeds/").get_data(as_text=True)
    for record in caplog.records:
        assert raw not in record.getMessage()
        assert raw not in str(record.__dict__)
    assert raw not in all_changes_text()


def test_sending_refuses_what_cannot_be_sent(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    _as(client, world.manager)
    unknown = client.post("/calendar-feeds/send", data={"recipient": "user:0", "feed": "station"})
    assert unknown.status_code == 400
    not_a_station = client.post(
        "/calendar-feeds/send", data={"recipient": f"user:{world.partner.id}", "feed": "station"}
    )
    assert not_a_station.status_code == 400
    assert "is not a radio station" in not_a_station.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedToken)) == 0
    _as(client, world.partner)
    assert client.get("/calendar-feeds/send").status_code == 403


def test_a_partners_own_address_ends_with_its_account(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    _as(client, world.partner)
    own = _path(_found(ADDRESS, _make_address(client)))
    staff_made = new_feed("organisation", world.host)
    assert fetch(client, own).status_code == 200
    world.partner.active = False
    db.session.commit()
    assert fetch(client, own).status_code == 404
    assert fetch(client, staff_made).status_code == 200
    # Moved to another organisation, it no longer reads the first one's feed either.
    world.partner.active = True
    world.partner.organisation_id = world.other_host.id
    db.session.commit()
    assert fetch(client, own).status_code == 404
