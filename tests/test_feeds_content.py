"""What feeds contain: scopes, times across daylight saving, status and sequence, privacy."""

from __future__ import annotations

from datetime import date, time, timedelta
from unittest.mock import patch

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.groups.operations import generate_sessions
from readerapp.models import ReadingSession
from readerapp.sessions.operations import cancel_session, reschedule_session
from readerapp.timeutil import utcnow

from .factories import Factory, aware
from .feed_checks import (
    commit_before_requests,  # noqa: F401  (a fixture)
    events_by_uid,
    fetch,
    get_calendar,
    new_feed,
    parse_feed,
)
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, build_world

pytestmark = pytest.mark.usefixtures("commit_before_requests")


def test_organisation_feed_shows_its_groups_only(client: FlaskClient) -> None:
    w = build_world()
    calendar = get_calendar(client, new_feed("organisation", w.host))
    uids = set(events_by_uid(calendar))
    assert uids == {
        f"session-{s.id}@readerapp" for s in (w.past_session, w.due_session, w.future_session)
    }
    other = get_calendar(client, new_feed("organisation", w.other_host))
    assert set(events_by_uid(other)) == {f"session-{w.other_session.id}@readerapp"}
    assert str(calendar["X-WR-CALNAME"]) == "Shared Reading: Northmoor Trust"
    assert b"B Wing" not in fetch(client, new_feed("organisation", w.host)).data


def test_group_leader_and_station_scopes(client: FlaskClient, factory: Factory) -> None:
    w = build_world()
    group = events_by_uid(get_calendar(client, new_feed("group", w.other_group)))
    assert set(group) == {f"session-{w.other_session.id}@readerapp"}

    # A co-led group, and a one-off session led in someone else's group, reach the leader.
    coled = factory.group(w.venue, w.other_leader, name="Co-led Readers")
    coled.coleaders = [w.leader]
    coled_session = factory.session(coled, start_dt=utcnow() + timedelta(days=6))
    stand_in = factory.session(
        w.other_group, start_dt=utcnow() + timedelta(days=8), leader_id=w.leader.id
    )
    db.session.commit()
    leader = events_by_uid(get_calendar(client, new_feed("leader", w.leader)))
    assert set(leader) == {
        f"session-{s.id}@readerapp"
        for s in (w.past_session, w.due_session, w.future_session, coled_session, stand_in)
    }
    assert f"session-{w.other_session.id}@readerapp" not in leader

    station = events_by_uid(get_calendar(client, new_feed("station", w.station)))
    assert set(station) == {f"broadcast-{w.broadcast.id}@readerapp"}
    event = station[f"broadcast-{w.broadcast.id}@readerapp"]
    assert str(event["LOCATION"]) == "Wave Radio"
    assert "Where We Begin" in str(event["SUMMARY"])


def test_a_station_partner_feed_has_its_groups_and_its_broadcasts(
    client: FlaskClient, factory: Factory
) -> None:
    w = build_world()
    factory.partnership(w.station, w.group, role="broadcaster")
    db.session.commit()
    uids = set(events_by_uid(get_calendar(client, new_feed("organisation", w.station))))
    assert f"broadcast-{w.broadcast.id}@readerapp" in uids
    assert f"session-{w.future_session.id}@readerapp" in uids
    assert f"session-{w.other_session.id}@readerapp" not in uids
    # Other organisations' feeds never carry the station's broadcasts.
    host = set(events_by_uid(get_calendar(client, new_feed("organisation", w.host))))
    assert not any(uid.startswith("broadcast-") for uid in host)


def test_no_personal_data_in_any_feed(client: FlaskClient) -> None:
    w = build_world()
    w.future_session.notes = SECRET_NOTE
    db.session.commit()
    paths = [
        new_feed("organisation", w.host),
        new_feed("group", w.group),
        new_feed("leader", w.leader),
        new_feed("station", w.station),
    ]
    for path in paths:
        body = fetch(client, path).data
        parse_feed(body)
        text = body.decode()
        unfolded = text.replace("\r\n ", "")
        for secret in (SECRET_NAME, SECRET_CODE, SECRET_NOTE, "Quartermaine", "ZQF"):
            assert secret not in unfolded, (path, secret)
        # Leaders appear by first name only; no attendance figures.
        assert "Leader" not in unfolded.replace("Reader leader", "")
        assert "Attend" not in unfolded and "participants" not in unfolded.lower()


def test_event_content_location_and_materials(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("organisation", w.host)
    events = events_by_uid(get_calendar(client, path))
    past = events[f"session-{w.past_session.id}@readerapp"]
    future = events[f"session-{w.future_session.id}@readerapp"]
    assert str(past["SUMMARY"]) == "Shared Reading: Willow Readers"
    assert str(past["LOCATION"]) == "Northmoor Hospital"  # no ward unless the partner allows it
    description = str(past["DESCRIPTION"])
    assert "Group: Willow Readers" in description
    assert "Reader leader: Lee" in description
    assert "The Happy Prince (Oscar Wilde)" in description  # delivered: materials shown
    assert "Happy Prince" not in str(future["DESCRIPTION"])
    assert str(past["STATUS"]) == "CONFIRMED"
    assert past.decoded("LAST-MODIFIED") == w.past_session.updated_at.replace(microsecond=0)
    assert past.decoded("DTSTAMP") == w.past_session.updated_at.replace(microsecond=0)

    w.host.share_location_detail = True
    db.session.commit()
    events = events_by_uid(get_calendar(client, path))
    assert str(events[f"session-{w.past_session.id}@readerapp"]["LOCATION"]) == (
        "Willow Ward, Northmoor Hospital"
    )


def test_materials_added_to_a_delivered_session_reach_the_feed(
    client: FlaskClient, factory: Factory
) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    get_calendar(client, path)
    # The link table changes without touching the session row.
    w.past_session.materials.append(factory.material(title="Invictus", author="W. E. Henley"))
    db.session.commit()
    events = events_by_uid(get_calendar(client, path))
    assert "Invictus (W. E. Henley)" in str(
        events[f"session-{w.past_session.id}@readerapp"]["DESCRIPTION"]
    )


def test_cancel_and_reschedule_change_status_and_sequence(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    uid = f"session-{w.future_session.id}@readerapp"
    before = events_by_uid(get_calendar(client, path))[uid]
    assert int(before["SEQUENCE"]) == 0

    start = w.future_session.local_start
    reschedule_session(w.future_session, start.date() + timedelta(days=1), time(14, 0), 60)
    db.session.commit()
    moved = events_by_uid(get_calendar(client, path))[uid]
    assert int(moved["SEQUENCE"]) == 1
    assert str(moved["STATUS"]) == "CONFIRMED"
    local_start = moved.decoded("DTSTART")
    assert (local_start.date(), local_start.time()) == (start.date() + timedelta(days=1), time(14))
    assert moved.decoded("DTEND") - local_start == timedelta(minutes=60)

    cancel_session(w.future_session, "Ward closed for an inspection")
    db.session.commit()
    cancelled = events_by_uid(get_calendar(client, path))[uid]
    assert str(cancelled["STATUS"]) == "CANCELLED"
    assert int(cancelled["SEQUENCE"]) == 2
    assert "Ward closed for an inspection" in str(cancelled["DESCRIPTION"])
    assert str(cancelled["SUMMARY"]).startswith("Cancelled: ")


def test_broadcast_cancellation(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("station", w.station)
    w.broadcast.status = "cancelled"
    w.broadcast.cancellation_reason = "Schedule change for a news special"
    w.broadcast.sequence += 1
    db.session.commit()
    event = events_by_uid(get_calendar(client, path))[f"broadcast-{w.broadcast.id}@readerapp"]
    assert str(event["STATUS"]) == "CANCELLED"
    assert int(event["SEQUENCE"]) == 1
    assert "news special" in str(event["DESCRIPTION"])


def test_cancelled_sessions_leave_30_days_after_their_start(
    client: FlaskClient, factory: Factory
) -> None:
    w = build_world()
    now = utcnow()
    recent = factory.session(
        w.group,
        start_dt=now - timedelta(days=29),
        status="cancelled",
        cancellation_reason="Snow",
    )
    old = factory.session(
        w.group,
        start_dt=now - timedelta(days=31),
        status="cancelled",
        cancellation_reason="Flood",
    )
    delivered_old = factory.session(w.group, start_dt=now - timedelta(days=60), status="delivered")
    too_old = factory.session(w.group, start_dt=now - timedelta(days=93), status="delivered")
    beyond = factory.session(w.group, start_dt=now + timedelta(days=200))
    db.session.commit()
    uids = set(events_by_uid(get_calendar(client, new_feed("group", w.group))))
    assert f"session-{recent.id}@readerapp" in uids
    assert f"session-{old.id}@readerapp" not in uids
    assert f"session-{delivered_old.id}@readerapp" in uids
    assert f"session-{too_old.id}@readerapp" not in uids  # FEED_WINDOW_BACK_DAYS is 92
    assert f"session-{beyond.id}@readerapp" not in uids  # beyond the 183-day horizon


def test_uid_does_not_depend_on_the_host(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    a = fetch(client, path, base_url="https://one.example").data
    b = fetch(client, path, base_url="http://other.example:8080").data
    assert a == b
    assert b"one.example" not in a


def _dst_group(factory: Factory, first: date, rrule: str = "FREQ=WEEKLY;BYDAY=TU"):
    venue = factory.venue(factory.organisation(name=f"DST Trust {first}"))
    group = factory.group(venue, factory.user(), rrule=rrule, first_date=first)
    factory.partnership(venue.organisation, group)
    return group


def _local_starts(client: FlaskClient, path: str) -> list[tuple[date, time, str]]:
    calendar = get_calendar(client, path)
    return sorted(
        (e.decoded("DTSTART").date(), e.decoded("DTSTART").time(), e["DTSTART"].params["TZID"])
        for e in calendar.walk("VEVENT")
    )


def test_tuesday_1030_stays_1030_across_both_clock_changes(
    client: FlaskClient, factory: Factory
) -> None:
    # Generated in January 2026; the feed is read in mid-summer and again in November.
    group = _dst_group(factory, date(2026, 3, 17))
    generate_sessions(group, now=aware(2026, 3, 1), horizon_days=300)
    db.session.commit()
    path = new_feed("group", group)
    for reading_at in (aware(2026, 6, 1), aware(2026, 11, 20)):
        with patch("readerapp.feeds.serve.utcnow", return_value=reading_at):
            starts = _local_starts(client, path)
        assert starts
        assert {(t, tz) for _, t, tz in starts} == {(time(10, 30), "Europe/London")}
        days = {d for d, _, _ in starts}
        if reading_at.month == 6:  # both sides of Sunday 29 March 2026
            assert {date(2026, 3, 24), date(2026, 3, 31)} <= days
        else:  # both sides of Sunday 25 October 2026
            assert {date(2026, 10, 20), date(2026, 10, 27)} <= days

    # The UTC instants do move: 10:30 GMT, then 09:30 UTC in summer.
    utc = {
        s.start_dt.date(): s.start_dt.time()
        for s in db.session.scalars(
            sa.select(ReadingSession).where(ReadingSession.group_id == group.id)
        )
    }
    assert utc[date(2026, 3, 24)] == time(10, 30)
    assert utc[date(2026, 3, 31)] == time(9, 30)
    assert utc[date(2026, 10, 20)] == time(9, 30)
    assert utc[date(2026, 10, 27)] == time(10, 30)


def test_vtimezone_rules_give_the_right_offsets(client: FlaskClient, factory: Factory) -> None:
    group = _dst_group(factory, date(2026, 3, 17))
    generate_sessions(group, now=aware(2026, 3, 1), horizon_days=300)
    db.session.commit()
    with patch("readerapp.feeds.serve.utcnow", return_value=aware(2026, 6, 1)):
        response = fetch(client, new_feed("group", group))
    calendar = parse_feed(response.data)
    # Read the VTIMEZONE back as a tzinfo and check both sides of the change with it.
    (vtimezone,) = calendar.walk("VTIMEZONE")
    tz = vtimezone.to_tz()
    from datetime import datetime

    assert datetime(2026, 3, 24, 10, 30, tzinfo=tz).utcoffset() == timedelta(0)
    assert datetime(2026, 3, 31, 10, 30, tzinfo=tz).utcoffset() == timedelta(hours=1)
    assert datetime(2026, 10, 27, 10, 30, tzinfo=tz).utcoffset() == timedelta(0)


def test_each_zone_used_has_its_vtimezone(client: FlaskClient, factory: Factory) -> None:
    w = build_world()
    factory.session(w.group, start_dt=utcnow() + timedelta(days=9), tz_name="America/New_York")
    db.session.commit()
    calendar = get_calendar(client, new_feed("group", w.group))
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    assert zones == {"Europe/London", "America/New_York"}
