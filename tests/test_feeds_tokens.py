"""Feed addresses: made, rotated and revoked on the web pages and from the command line."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.feeds.models import FeedToken
from readerapp.feeds.operations import FeedError, create_token

from .feed_checks import (
    commit_before_requests,  # noqa: F401  (a fixture)
    events_by_uid,
    fetch,
    get_calendar,
)
from .world import World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("commit_before_requests")

LINK = re.compile(r'value="(https?://[^"]+/feeds/([A-Za-z0-9_-]+)\.ics)"')
WEBCAL = re.compile(r'value="(webcal://[^"]+/feeds/[A-Za-z0-9_-]+\.ics)"')


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def _signed_in(client: FlaskClient, user: object) -> None:
    sign_in_as(client, user)  # type: ignore[arg-type]
    db.session.commit()


def _links(html: str) -> tuple[str, str, str]:
    https = LINK.search(html)
    webcal = WEBCAL.search(html)
    assert https and webcal, html
    return https.group(1), https.group(2), webcal.group(1)


def _active(scope: str) -> list[FeedToken]:
    return list(
        db.session.scalars(
            sa.select(FeedToken).where(FeedToken.scope == scope, FeedToken.revoked_at.is_(None))
        )
    )


def test_manager_creates_an_organisation_feed_and_sees_both_links(
    client: FlaskClient, no_csrf: None
) -> None:
    w = build_world()
    host_id = w.host.id
    _signed_in(client, w.manager)
    page = client.get("/calendar-feeds/")
    assert page.status_code == 200
    assert "Calendar feeds" in page.get_data(as_text=True)
    response = client.post(
        "/calendar-feeds/",
        data={"scope": "organisation", "organisation_id": str(host_id), "label": "Ward"},
    )
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    https, raw, webcal = _links(html)
    # No BASE_URL configured: the request's host.
    assert https == f"http://localhost/feeds/{raw}.ics"
    assert webcal == f"webcal://localhost/feeds/{raw}.ics"
    (token,) = _active("organisation")
    assert token.organisation_id == host_id and token.label == "Ward"
    assert raw not in client.get("/calendar-feeds/").get_data(as_text=True)  # shown once
    assert fetch(client, f"/feeds/{raw}.ics").status_code == 200


def test_links_use_base_url_when_configured(app: Flask, client: FlaskClient, no_csrf: None) -> None:
    w = build_world()
    group_id = w.group.id
    _signed_in(client, w.admin)
    app.config["BASE_URL"] = "https://reading.example.org/"
    try:
        html = client.post(
            "/calendar-feeds/", data={"scope": "group", "group_id": str(group_id)}
        ).get_data(as_text=True)
    finally:
        app.config["BASE_URL"] = "http://127.0.0.1:5000"
    https, raw, webcal = _links(html)
    assert https == f"https://reading.example.org/feeds/{raw}.ics"
    assert webcal == f"webcal://reading.example.org/feeds/{raw}.ics"


def test_bad_input_is_a_400_with_errors_and_writes_nothing(
    client: FlaskClient, no_csrf: None
) -> None:
    w = build_world()
    host_id = w.host.id
    _signed_in(client, w.admin)
    cases = [
        {"scope": "organisation", "organisation_id": ""},
        {"scope": "station", "station_id": str(host_id)},  # not a radio station
        {"scope": "bogus"},
        {"scope": "group", "group_id": "not-a-number"},
        {"scope": "group", "group_id": "999999"},
        {"scope": "organisation", "organisation_id": str(host_id), "label": "x" * 201},
    ]
    for data in cases:
        response = client.post("/calendar-feeds/", data=data)
        assert response.status_code == 400, data
        assert "There is a problem" in response.get_data(as_text=True), data
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedToken)) == 0


def test_rotate_and_revoke_on_the_page(client: FlaskClient, no_csrf: None) -> None:
    w = build_world()
    token, raw = create_token("organisation", w.host)
    token_id = token.id
    _signed_in(client, w.manager)
    response = client.post(f"/calendar-feeds/{token_id}/rotate")
    assert response.status_code == 200
    _, new_raw, _ = _links(response.get_data(as_text=True))
    assert fetch(client, f"/feeds/{raw}.ics").status_code == 404
    assert fetch(client, f"/feeds/{new_raw}.ics").status_code == 200
    # The old one cannot be rotated or revoked again.
    assert client.post(f"/calendar-feeds/{token_id}/rotate").status_code == 404
    (new,) = _active("organisation")
    new_id = new.id
    db.session.commit()
    response = client.post(f"/calendar-feeds/{new_id}/revoke")
    assert response.status_code == 302
    assert fetch(client, f"/feeds/{new_raw}.ics").status_code == 404
    assert _active("organisation") == []


def test_leader_manages_only_their_own_feed(client: FlaskClient, no_csrf: None) -> None:
    w: World = build_world()
    leader_id, other_id, host_id = w.leader.id, w.other_leader.id, w.host.id
    theirs, _ = create_token("leader", w.other_leader)
    org_token, _ = create_token("organisation", w.host)
    theirs_id, org_id = theirs.id, org_token.id
    _signed_in(client, w.leader)
    page = client.get("/calendar-feeds/").get_data(as_text=True)
    assert "Northmoor Trust" not in page  # staff feeds are not listed for leaders
    response = client.post("/calendar-feeds/", data={"scope": "leader"})
    assert response.status_code == 200
    _, raw, _ = _links(response.get_data(as_text=True))
    (mine,) = [t for t in _active("leader") if t.user_id == leader_id]
    calendar = get_calendar(client, f"/feeds/{raw}.ics")
    assert f"session-{w.future_session.id}@readerapp" in events_by_uid(calendar)
    assert f"session-{w.other_session.id}@readerapp" not in events_by_uid(calendar)
    # Other scopes, other leaders, other people's tokens: refused.
    forbidden = [
        ("/calendar-feeds/", {"scope": "organisation", "organisation_id": str(host_id)}),
        ("/calendar-feeds/", {"scope": "leader", "leader_id": str(other_id)}),
        (f"/calendar-feeds/{theirs_id}/rotate", {}),
        (f"/calendar-feeds/{theirs_id}/revoke", {}),
        (f"/calendar-feeds/{org_id}/revoke", {}),
    ]
    for url, data in forbidden:
        assert client.post(url, data=data).status_code == 403, url
    db.session.commit()
    assert client.post(f"/calendar-feeds/{mine.id}/revoke").status_code == 302


def test_partners_cannot_manage_feeds(client: FlaskClient, no_csrf: None) -> None:
    w = build_world()
    _signed_in(client, w.partner)
    assert client.get("/calendar-feeds/").status_code == 403
    assert client.post("/calendar-feeds/", data={"scope": "leader"}).status_code == 403


def test_csrf_is_required(client: FlaskClient) -> None:
    w = build_world()
    group_id = w.group.id
    _signed_in(client, w.admin)
    response = client.post("/calendar-feeds/", data={"scope": "group", "group_id": str(group_id)})
    assert response.status_code == 400
    assert _active("group") == []


def test_operations_refuse_wrong_targets() -> None:
    w = build_world()
    with pytest.raises(FeedError):
        create_token("station", w.host)
    with pytest.raises(FeedError):
        create_token("leader", w.partner)
    with pytest.raises(FeedError):
        create_token("group", w.host)


@pytest.mark.parametrize(
    ("option", "value", "scope"),
    [
        ("--organisation", "Northmoor Trust", "organisation"),
        ("--group", "Willow Readers", "group"),
        ("--leader", "LEADER", "leader"),
        ("--station", "Wave Radio", "station"),
    ],
)
def test_cli_create_token(
    app: Flask, client: FlaskClient, option: str, value: str, scope: str
) -> None:
    w = build_world()
    if value == "LEADER":
        value = w.leader.email.upper()  # emails are matched case-insensitively
    db.session.commit()
    app.config["BASE_URL"] = "https://reading.example.org"
    try:
        result = app.test_cli_runner().invoke(args=["feeds", "create-token", option, value])
    finally:
        app.config["BASE_URL"] = "http://127.0.0.1:5000"
    assert result.exit_code == 0, result.output
    url = result.stdout.strip()
    match = re.fullmatch(r"https://reading\.example\.org(/feeds/[A-Za-z0-9_-]{43}\.ics)", url)
    assert match, url
    assert "webcal://reading.example.org/feeds/" in result.stderr
    db.session.rollback()
    assert len(_active(scope)) == 1
    assert fetch(client, match.group(1)).status_code == 200


def test_cli_refuses_bad_arguments(app: Flask) -> None:
    build_world()
    db.session.commit()
    runner = app.test_cli_runner()
    for args in (
        ["feeds", "create-token"],
        ["feeds", "create-token", "--group", "Willow Readers", "--organisation", "HMP Elsewhere"],
        ["feeds", "create-token", "--group", "No Such Group"],
        ["feeds", "create-token", "--station", "Northmoor Trust"],
    ):
        result = runner.invoke(args=args)
        assert result.exit_code != 0, args
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedToken)) == 0
