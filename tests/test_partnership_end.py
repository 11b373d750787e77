"""A partner sees a group for as long as their partnership with it lasts: once it has ended,
the group, its sessions and its events leave their pages, the API and their organisation's
feed (their reports and exports still cover the partnership's dates)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.access import local_today
from readerapp.api.tokens import create_token
from readerapp.extensions import db
from readerapp.feeds.operations import create_token as create_feed_token

from .world import World, build_world, client_for


def _end_host_partnership(world: World, days_from_today: int) -> None:
    (partnership,) = world.group.partnerships
    partnership.end_date = local_today() + timedelta(days=days_from_today)
    db.session.commit()


def _what_the_partner_sees(app: Flask, world: World) -> dict[str, object]:
    group_id, session_id = world.group.id, world.future_session.id
    _, feed_secret = create_feed_token("organisation", world.host)
    api_secret = create_token(world.partner).secret
    db.session.commit()
    web = client_for(app, world.partner)
    api: FlaskClient = app.test_client()
    bearer = {"Authorization": f"Bearer {api_secret}"}
    feed = app.test_client().get(f"/feeds/{feed_secret}.ics").data.replace(b"\r\n ", b"")
    return {
        "group page": web.get(f"/groups/{group_id}").status_code,
        "session page": web.get(f"/sessions/{session_id}").status_code,
        "groups list": "Willow Readers" in web.get("/groups").get_data(as_text=True),
        "api group": api.get(f"/api/v1/groups/{group_id}", headers=bearer).status_code,
        "api sessions": len(api.get("/api/v1/sessions", headers=bearer).get_json()),
        "feed": b"Willow Readers" in feed,
    }


@pytest.mark.parametrize(("ends_in_days", "sees"), [(None, True), (0, True), (-1, False)])
def test_a_partner_sees_the_group_while_the_partnership_lasts(
    app: Flask, ends_in_days: int | None, sees: bool
) -> None:
    world = build_world()
    if ends_in_days is not None:
        _end_host_partnership(world, ends_in_days)
    seen = _what_the_partner_sees(app, world)
    if sees:
        assert seen == {
            "group page": 200,
            "session page": 200,
            "groups list": True,
            "api group": 200,
            "api sessions": 3,
            "feed": True,
        }
    else:
        # As for any group a partner may not see: 403 on the pages, 404 in the API.
        assert seen == {
            "group page": 403,
            "session page": 403,
            "groups list": False,
            "api group": 404,
            "api sessions": 0,
            "feed": False,
        }


def test_a_partnership_that_starts_later_already_shows_the_group(app: Flask) -> None:
    world = build_world()
    (partnership,) = world.group.partnerships
    partnership.start_date = local_today() + timedelta(days=30)
    db.session.commit()
    assert _what_the_partner_sees(app, world)["group page"] == 200


def test_staff_and_leaders_still_see_a_group_whose_partnership_ended(app: Flask) -> None:
    world = build_world()
    _end_host_partnership(world, -1)
    for user in (world.manager, world.leader):
        assert client_for(app, user).get(f"/groups/{world.group.id}").status_code == 200
