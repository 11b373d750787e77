"""A group's own room or ward, and the host partner a new group gets from its venue: in the
operation, the forms, the API, the pages and the feeds; and the refusal of excluded dates on
which the pattern does not meet."""

from __future__ import annotations

import re
from datetime import date, time, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade

from readerapp import create_app
from readerapp.demo import seed
from readerapp.exports.partnership_report import build_report
from readerapp.exports.queries import ReportScope
from readerapp.extensions import db
from readerapp.groups.limits import ROOM
from readerapp.groups.models import ReadingGroup, place_words
from readerapp.groups.operations import GroupData, GroupError, create_group, update_group
from readerapp.organisations.models import Partnership
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import to_local, utcnow

from .api_helpers import build_api_world, is_problem
from .factories import Factory
from .feed_checks import events_by_uid, get_calendar, new_feed
from .groups_support import fresh
from .test_foundation_migrations import empty_database_url  # noqa: F401  (a fixture)
from .world import World, build_world, client_for


def _larch(world: World, **changes: object) -> GroupData:
    """Larch Ward's group, at the hospital whose venue says Willow Ward."""
    values: dict[str, object] = dict(
        name="Larch Ward Readers",
        venue_id=world.venue.id,
        room="Larch Ward",
        rrule="FREQ=WEEKLY;BYDAY=TH",
        start_time=time(14, 0),
        duration_minutes=60,
        first_date=to_local(utcnow()).date() - timedelta(days=30),
        lead_leader_id=world.leader.id,
    )
    return GroupData(**(values | changes))  # type: ignore[arg-type]


# --- the operation ------------------------------------------------------------------------------


def test_a_new_group_keeps_its_room_and_its_venue_organisation_hosts_it() -> None:
    world = build_world()
    group = create_group(_larch(world, room="  Larch Ward "))
    db.session.commit()
    assert group.room == "Larch Ward"
    [host] = group.partnerships
    assert (host.organisation_id, host.role, host.start_date, host.end_date) == (
        world.host.id,
        "host",
        group.first_date,
        None,
    )


def test_the_room_is_optional_limited_and_kept_on_update(factory: Factory) -> None:
    world = build_world(factory)
    group = create_group(_larch(world, name="No Room Readers", room="  "))
    assert group.room is None
    with pytest.raises(GroupError) as refused:
        create_group(_larch(world, name="Long Room Readers", room="r" * (ROOM + 1)))
    assert refused.value.field == "room" and str(ROOM) in refused.value.message
    update_group(group, _larch(world, name="No Room Readers", room="Rowan Ward"))
    assert group.room == "Rowan Ward"
    # The host partnership is the creator's, not the updater's: no second one appears.
    assert len(db.session.scalars(sa.select(Partnership).filter_by(group_id=group.id)).all()) == 1


def test_the_host_partnership_can_be_edited_afterwards(app: Flask) -> None:
    world = build_world()
    group = create_group(_larch(world))
    db.session.commit()
    partnership_id = group.partnerships[0].id
    client = client_for(app, world.manager)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        response = client.post(
            f"/groups/{group.id}/partnerships/{partnership_id}/edit",
            data={
                "organisation_id": str(world.host.id),
                "role": "host",
                "start_date": "2026-02-01",
                "end_date": "",
            },
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert response.status_code == 302
    fresh()
    assert db.session.get(Partnership, partnership_id).start_date == date(2026, 2, 1)


def test_place_words_put_the_most_precise_first_and_say_each_once() -> None:
    assert place_words("Northmoor Hospital", "Moorside", "Larch Ward", detail=True) == (
        "Larch Ward, Moorside, Northmoor Hospital"
    )
    assert place_words("Northmoor Hospital", None, "Larch Ward", detail=True) == (
        "Larch Ward, Northmoor Hospital"
    )
    assert place_words("Northmoor Hospital", "Willow Ward", "willow ward", detail=True) == (
        "willow ward, Northmoor Hospital"
    )
    assert place_words("Northmoor Hospital", "Moorside", "Larch Ward", detail=False) == (
        "Northmoor Hospital"
    )


# --- feeds and reports --------------------------------------------------------------------------


def test_the_trusts_feed_says_larch_ward_and_shows_the_new_group_without_a_manual_step(
    client: FlaskClient,
) -> None:
    world = build_world()
    world.venue.unit = None  # the hospital, not one of its wards
    world.host.share_location_detail = True
    create_group(_larch(world))
    db.session.commit()
    path = new_feed("organisation", world.host)
    events = events_by_uid(get_calendar(client, path))
    larch = [e for e in events.values() if str(e["SUMMARY"]).endswith("Larch Ward Readers")]
    assert larch, "the new group is in its host's feed"
    assert {str(e["LOCATION"]) for e in larch} == {"Larch Ward, Northmoor Hospital"}
    # The Willow group at the same venue has no room: the venue alone.
    willow = events[f"session-{world.future_session.id}@readerapp"]
    assert str(willow["LOCATION"]) == "Northmoor Hospital"

    # A venue detail sits between the room and the venue; an organisation that keeps its wards
    # private shows the venue only (the feed notices both changes).
    world.venue.unit = "Moorside Building"
    db.session.commit()
    events = events_by_uid(get_calendar(client, path))
    assert {str(e["LOCATION"]) for e in events.values() if "Larch" in str(e["SUMMARY"])} == {
        "Larch Ward, Moorside Building, Northmoor Hospital"
    }
    world.host.share_location_detail = False
    db.session.commit()
    events = events_by_uid(get_calendar(client, path))
    assert {str(e["LOCATION"]) for e in events.values() if "Larch" in str(e["SUMMARY"])} == {
        "Northmoor Hospital"
    }


def test_a_new_group_is_in_its_hosts_report_without_a_manual_step() -> None:
    world = build_world()
    today = to_local(utcnow()).date()
    scope = ReportScope(today - timedelta(days=60), today + timedelta(days=60), world.host.id)
    before = build_report(scope).planned
    create_group(_larch(world))
    db.session.commit()
    assert build_report(scope).planned > before


# --- the web pages --------------------------------------------------------------------------------


def _form(world: World, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Larch Ward Readers",
        "venue_id": str(world.venue.id),
        "room": "Larch Ward",
        "lead_leader_id": str(world.leader.id),
        "status": "active",
        "frequency": "weekly",
        "weekdays": ["TH"],
        "start_time": "14:00",
        "duration_minutes": "60",
        "tz_name": "Europe/London",
        "first_date": to_local(utcnow()).date().isoformat(),
        "end": "none",
        "excluded_dates": "",
    }
    return data | changes


@pytest.fixture
def forms_without_csrf(app: Flask):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def test_the_group_form_takes_a_room_and_lists_venues_with_their_unit(
    app: Flask, forms_without_csrf: None
) -> None:
    world = build_world()
    client = client_for(app, world.manager)
    page = client.get("/groups/new").text
    assert 'name="room"' in page
    assert "Northmoor Hospital, Willow Ward — Northmoor Trust" in page
    too_long = client.post("/groups/new", data=_form(world, room="r" * (ROOM + 1)))
    assert too_long.status_code == 400 and 'id="room-error"' in too_long.text
    made = client.post("/groups/new", data=_form(world))
    assert made.status_code == 302
    fresh()
    group = db.session.scalar(sa.select(ReadingGroup).filter_by(name="Larch Ward Readers"))
    assert group.room == "Larch Ward"
    assert [(p.organisation_id, p.role) for p in group.partnerships] == [(world.host.id, "host")]
    assert 'value="Larch Ward"' in client.get(f"/groups/{group.id}/edit").text


def test_pages_show_the_room_to_those_who_see_location_detail(app: Flask) -> None:
    world = build_world()
    group = create_group(_larch(world))
    db.session.commit()
    session_id = db.session.scalar(
        sa.select(ReadingSession.id)
        .where(ReadingSession.group_id == group.id, ReadingSession.start_dt > utcnow())
        .order_by(ReadingSession.start_dt)
    )
    leader = client_for(app, world.leader)
    assert "Larch Ward" in leader.get(f"/groups/{group.id}").text
    for url in (f"/sessions/{session_id}", "/sessions"):
        assert "Larch Ward, Willow Ward, Northmoor Hospital" in leader.get(url).text, url
    # A partner of an organisation that keeps its wards private sees the venue only.
    partner = client_for(app, world.partner)
    for url in (f"/groups/{group.id}", f"/sessions/{session_id}", "/sessions"):
        text = partner.get(url).text
        assert "Larch Ward Readers" in text and "Larch Ward," not in text, url
        assert "Room or ward" not in text
    world.host.share_location_detail = True
    db.session.commit()
    assert "Larch Ward, Willow Ward" in partner.get(f"/sessions/{session_id}").text


def test_a_new_groups_page_says_no_sessions_logged_and_upcoming_cards_say_the_time_once(
    app: Flask,
) -> None:
    world = build_world()
    group = create_group(_larch(world, first_date=to_local(utcnow()).date() + timedelta(days=1)))
    db.session.commit()
    text = client_for(app, world.leader).get(f"/groups/{group.id}").text
    assert "No sessions logged yet." in text
    assert "Participants per month" not in text and "<svg" not in text
    cards = re.findall(r'<li class="card">(.*?)</li>', text, re.S)
    assert cards
    for card in cards:
        assert card.count("14:00") == 1, card  # "14:00–15:00" under the day, not twice


# --- the API --------------------------------------------------------------------------------------


def test_the_api_takes_and_shows_the_room_and_hides_it_from_partners_unless_shared(
    client: FlaskClient,
) -> None:
    aw = build_api_world()
    body = {
        "name": "Larch Ward Readers",
        "venue_id": aw.ids["venue"],
        "room": "Larch Ward",
        "rrule": "FREQ=WEEKLY;BYDAY=TH",
        "start_time": "14:00:00",
        "duration_minutes": 60,
        "first_date": to_local(utcnow()).date().isoformat(),
    }
    too_long = client.post(
        "/api/v1/groups", headers=aw.headers("manager"), json=body | {"room": "r" * (ROOM + 1)}
    )
    assert too_long.status_code == 422 and is_problem(too_long)
    made = client.post("/api/v1/groups", headers=aw.headers("manager"), json=body)
    assert made.status_code == 201, made.get_json()
    group_id = made.get_json()["id"]
    assert made.get_json()["room"] == "Larch Ward"
    fresh()
    hosts = db.session.scalars(sa.select(Partnership).filter_by(group_id=group_id)).all()
    assert [(p.organisation_id, p.role) for p in hosts] == [(aw.ids["host"], "host")]
    # The partner (of the host, now partnering the group) sees the group but not the ward.
    seen = client.get(f"/api/v1/groups/{group_id}", headers=aw.headers("partner"))
    assert seen.status_code == 200 and seen.get_json()["room"] is None
    url = f"/api/v1/groups/{group_id}"
    assert client.get(url, headers=aw.headers("manager")).get_json()["room"] == "Larch Ward"
    fresh()
    aw.world.host.share_location_detail = True
    db.session.commit()
    assert client.get(url, headers=aw.headers("partner")).get_json()["room"] == "Larch Ward"


# --- excluded dates -------------------------------------------------------------------------------


def test_excluding_a_day_without_a_session_is_refused_clearly(
    app: Flask, forms_without_csrf: None
) -> None:
    world = build_world()
    with pytest.raises(GroupError) as refused:
        # A Thursday group; Christmas Day 2030 is a Wednesday.
        create_group(_larch(world, excluded={date(2030, 12, 25): "Christmas Day"}))
    assert refused.value.field == "excluded_dates"
    assert "does not meet on Wed 25 Dec 2030" in refused.value.message
    db.session.rollback()
    client = client_for(app, world.manager)
    response = client.post(
        "/groups/new", data=_form(world, excluded_dates="2030-12-25 Christmas Day")
    )
    assert response.status_code == 400
    assert 'id="excluded_dates-error"' in response.text and "Wed 25 Dec 2030" in response.text
    fresh()
    assert db.session.scalar(sa.select(ReadingGroup).filter_by(name="Larch Ward Readers")) is None


def test_a_day_excluded_before_the_pattern_moved_does_not_block_later_changes() -> None:
    world = build_world()
    group = create_group(_larch(world, excluded={date(2030, 12, 26): "Boxing Day"}))
    # The group moves to Tuesdays; the old Thursday exclusion stays harmlessly.
    update_group(
        group,
        _larch(world, rrule="FREQ=WEEKLY;BYDAY=TU", excluded={date(2030, 12, 26): "Boxing Day"}),
    )
    assert group.rrule == "FREQ=WEEKLY;BYDAY=TU"
    with pytest.raises(GroupError):
        update_group(
            group,
            _larch(
                world,
                rrule="FREQ=WEEKLY;BYDAY=TU",
                excluded={date(2030, 12, 26): None, date(2030, 12, 27): None},
            ),
        )


# --- the migration --------------------------------------------------------------------------------


def test_the_room_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()

        def counts() -> tuple[int, ...]:
            return tuple(
                db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
                for model in (ReadingGroup, ReadingSession, Partnership)
            )

        before = counts()
        db.session.remove()
        downgrade(revision="0008")  # the demo data as it was before rooms
        upgrade(revision="heads")
        assert counts() == before and before[0] >= 8
        assert db.session.scalar(sa.select(sa.func.count(ReadingGroup.room))) == 0
        db.session.remove()
        db.engine.dispose()
