"""The page that adds an extra, one-off session to a group: who may use it, where the session
lands in UTC, and the inline errors for a clash and for a closed group."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.db import sqlite_read_only
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import to_local, utcnow

from .world import World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def world() -> World:
    w = build_world()
    db.session.rollback()
    return w


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    # Permission checks on POST; CSRF itself is tested with the other session pages.
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def _group_id(w: World) -> int:
    group_id = w.group.id
    db.session.rollback()
    return group_id


def _url(group_id: int) -> str:
    return f"/groups/{group_id}/sessions/new"


def _token(client: FlaskClient, url: str) -> str:
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert token, html[:500]
    return token.group(1)


def _session_count(group_id: int) -> int:
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReadingSession)
        .where(ReadingSession.group_id == group_id)
    )
    db.session.rollback()
    return count


def _error(html: str, field: str) -> str:
    """The inline error shown on ``field``, or an empty string."""
    found = re.search(rf'<p class="error-message" id="{field}-error">(.*?)</p>', html, re.S)
    return found.group(1) if found else ""


def _next_july() -> date:
    """A July day still to come: summer time in London (UTC+1)."""
    return date(utcnow().year + 1, 7, 15)


def test_the_form_starts_from_the_group(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    sign_in_as(client, world.leader)
    response = client.get(_url(group_id))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "outside the group&#39;s pattern" in html or "outside the group's pattern" in html
    assert "Times are in Europe/London" in html
    assert re.search(r'id="start_time"[^>]*value="10:30"', html), html
    assert re.search(r'id="duration_minutes"[^>]*value="90"', html), html
    assert re.search(r'<option selected value="\d+">Lee Leader</option>', html), html


def test_a_leader_adds_a_one_off_session(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    leader_id = world.leader.id
    db.session.rollback()
    sign_in_as(client, world.leader)
    token = _token(client, _url(group_id))
    before = _session_count(group_id)
    day = _next_july()

    response = client.post(
        _url(group_id),
        data={
            "csrf_token": token,
            "date": day.isoformat(),
            "start_time": "10:30",
            "duration_minutes": "120",
            "leader_id": str(leader_id),
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    added = db.session.scalars(
        sa.select(ReadingSession).where(
            ReadingSession.group_id == group_id,
            ReadingSession.start_dt == datetime(day.year, 7, 15, 9, 30, tzinfo=UTC),
        )
    ).one()
    assert response.headers["Location"].endswith(f"/sessions/{added.id}")
    # 10:30 in London in July is 09:30 UTC; the session is no slot of the pattern.
    assert to_local(added.start_dt, added.tz_name).strftime("%H:%M") == "10:30"
    assert added.occurrence_dt is None
    assert (added.status, added.duration_minutes, added.leader_id) == ("scheduled", 120, leader_id)
    db.session.rollback()
    assert _session_count(group_id) == before + 1

    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "The session has been added." in page.get_data(as_text=True)


def test_a_clash_is_409_inline_and_writes_nothing(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    taken = to_local(world.future_session.start_dt, world.future_session.tz_name)
    db.session.rollback()
    sign_in_as(client, world.manager)
    token = _token(client, _url(group_id))
    before = _session_count(group_id)

    response = client.post(
        _url(group_id),
        data={
            "csrf_token": token,
            "date": taken.strftime("%Y-%m-%d"),
            "start_time": taken.strftime("%H:%M"),
            "duration_minutes": "90",
            "leader_id": str(world.leader.id),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "already has a session" in _error(html, "date")
    assert 'class="error-summary"' in html
    db.session.rollback()
    assert _session_count(group_id) == before


def test_a_closed_group_refuses_a_future_session(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    sqlite_read_only.set(False)
    db.session.get(ReadingGroup, group_id).status = "closed"
    db.session.commit()
    sqlite_read_only.set(True)
    sign_in_as(client, world.leader)
    token = _token(client, _url(group_id))
    before = _session_count(group_id)

    response = client.post(
        _url(group_id),
        data={
            "csrf_token": token,
            "date": _next_july().isoformat(),
            "start_time": "10:30",
            "duration_minutes": "90",
            "leader_id": str(world.leader.id),
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This group is closed" in _error(html, "date")
    db.session.rollback()
    assert _session_count(group_id) == before


def test_bad_input_is_400_inline(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    sign_in_as(client, world.leader)
    token = _token(client, _url(group_id))
    before = _session_count(group_id)
    response = client.post(
        _url(group_id),
        data={
            "csrf_token": token,
            "date": "",
            "start_time": "10:30",
            "duration_minutes": "0",
            "leader_id": "999999",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Enter a date." in _error(html, "date")
    assert _error(html, "duration_minutes")
    assert _error(html, "leader_id")
    assert _session_count(group_id) == before


def test_partner_gets_403_and_other_leader_404(
    client: FlaskClient, world: World, no_csrf: None
) -> None:
    group_id = _group_id(world)
    partner, other_leader = world.partner, world.other_leader
    db.session.rollback()
    before = _session_count(group_id)
    data = {"date": _next_july().isoformat(), "start_time": "10:30", "duration_minutes": "90"}

    sign_in_as(client, partner)
    assert client.get(_url(group_id)).status_code == 403
    assert client.post(_url(group_id), data=data).status_code == 403
    sign_in_as(client, other_leader)
    assert client.get(_url(group_id)).status_code == 404
    assert client.post(_url(group_id), data=data).status_code == 404
    assert client.get(_url(999_999)).status_code == 404
    assert _session_count(group_id) == before


def test_the_group_page_links_to_it_for_editors_only(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    leader, partner = world.leader, world.partner
    db.session.rollback()

    sign_in_as(client, leader)
    html = client.get(f"/groups/{group_id}").get_data(as_text=True)
    assert "Add a one-off session" in html
    assert f'href="/groups/{group_id}/sessions/new"' in html

    sign_in_as(client, partner)
    response = client.get(f"/groups/{group_id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Add a one-off session" not in html
    assert "/sessions/new" not in html


# --- clock changes (Europe/London: 28 March and 31 October 2027) -----------------------------


def _post_one_off(client: FlaskClient, world: World, **fields: str):  # type: ignore[no-untyped-def]
    group_id = _group_id(world)
    token = _token(client, _url(group_id))
    data = {
        "csrf_token": token,
        "duration_minutes": "55",
        "leader_id": str(world.leader.id),
        **fields,
    }
    db.session.rollback()
    return client.post(_url(group_id), data=data)


def test_a_start_the_clocks_skip_is_refused_not_moved(client: FlaskClient, world: World) -> None:
    group_id = _group_id(world)
    sign_in_as(client, world.leader)
    before = _session_count(group_id)
    response = _post_one_off(client, world, date="2027-03-28", start_time="01:30")
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "does not exist in Europe/London" in _error(html, "start_time")
    assert _session_count(group_id) == before


def test_a_start_the_clocks_repeat_asks_which_and_keeps_the_answer(
    client: FlaskClient, world: World
) -> None:
    group_id = _group_id(world)
    sign_in_as(client, world.leader)
    before = _session_count(group_id)
    asked = _post_one_off(client, world, date="2027-10-31", start_time="01:30")
    html = asked.get_data(as_text=True)
    assert asked.status_code == 400
    assert "happens twice" in _error(html, "fold")
    assert "01:30 BST (first)" in html and "01:30 GMT (second)" in html
    assert _session_count(group_id) == before

    added = _post_one_off(client, world, date="2027-10-31", start_time="01:30", fold="1")
    assert added.status_code == 302, added.get_data(as_text=True)[:2000]
    session_id = int(added.headers["Location"].rsplit("/", 1)[1])
    start = db.session.get(ReadingSession, session_id).start_dt
    db.session.rollback()
    # The second 01:30 is 01:30 UTC (GMT); the first would have been 00:30 UTC.
    assert start == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"date": "2027-10-31", "start_time": "01:30", "fold": "0"}, "01:30 BST–01:25 GMT"),
        ({"date": "2027-03-28", "start_time": "00:30"}, "00:30 GMT–02:25 BST"),
    ],
    ids=["autumn", "spring"],
)
def test_a_session_across_a_clock_change_ends_after_it_starts(
    client: FlaskClient, world: World, fields: dict[str, str], shown: str
) -> None:
    sign_in_as(client, world.leader)
    added = _post_one_off(client, world, **fields)
    assert added.status_code == 302
    page = client.get(added.headers["Location"]).get_data(as_text=True)
    assert shown in page
    assert "01:30–01:25" not in page
