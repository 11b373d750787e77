"""Creating and editing groups: validation, regeneration that keeps people's changes, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.groups.operations import (
    GroupData,
    GroupError,
    PartnershipData,
    add_partnership,
    create_group,
    remove_partnership,
    update_group,
    update_partnership,
)
from readerapp.organisations.models import Partnership
from readerapp.sessions.models import ReadingSession

from .factories import Factory

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def long_horizon(app: Flask) -> None:
    """A horizon past both 2027 clock changes, so one generation covers them."""
    old = app.config["SCHEDULE_HORIZON_DAYS"]
    app.config["SCHEDULE_HORIZON_DAYS"] = 400
    yield
    app.config["SCHEDULE_HORIZON_DAYS"] = old


def _data(factory: Factory, **kw: object) -> GroupData:
    if "venue_id" not in kw:
        kw["venue_id"] = factory.venue().id
    kw.setdefault("name", "Tuesday Readers")
    kw.setdefault("rrule", "FREQ=WEEKLY;BYDAY=TU")
    kw.setdefault("start_time", time(10, 30))
    kw.setdefault("duration_minutes", 90)
    kw.setdefault("first_date", date(2027, 1, 5))
    return GroupData(**kw)  # type: ignore[arg-type]


def _sessions(group: ReadingGroup) -> list[ReadingSession]:
    return list(
        db.session.scalars(
            sa.select(ReadingSession)
            .where(ReadingSession.group_id == group.id)
            .order_by(ReadingSession.start_dt)
        )
    )


def _local(session: ReadingSession) -> datetime:
    return session.start_dt.astimezone(LONDON)


def test_weekly_group_keeps_local_time_across_both_clock_changes(
    factory: Factory, long_horizon: None
) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    group = create_group(_data(factory), now=now)
    sessions = _sessions(group)
    assert sessions
    assert all(_local(s).weekday() == 1 and _local(s).time() == time(10, 30) for s in sessions)
    by_day = {_local(s).date(): s.start_dt for s in sessions}
    # Clocks go forward on Sunday 28 March 2027 and back on Sunday 31 October 2027.
    assert by_day[date(2027, 3, 23)] == datetime(2027, 3, 23, 10, 30, tzinfo=UTC)
    assert by_day[date(2027, 3, 30)] == datetime(2027, 3, 30, 9, 30, tzinfo=UTC)
    assert by_day[date(2027, 10, 26)] == datetime(2027, 10, 26, 9, 30, tzinfo=UTC)
    assert by_day[date(2027, 11, 2)] == datetime(2027, 11, 2, 10, 30, tzinfo=UTC)
    # Consecutive meetings are a week apart in local time, so 167 or 169 hours in UTC there.
    gaps = {b - a for a, b in zip(list(by_day.values()), list(by_day.values())[1:], strict=False)}
    assert gaps == {timedelta(days=7), timedelta(days=7, hours=-1), timedelta(days=7, hours=1)}


def test_second_thursday_monthly_with_count_and_an_excluded_date(factory: Factory) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    group = create_group(
        _data(
            factory,
            rrule="FREQ=MONTHLY;BYDAY=2TH;COUNT=6",
            first_date=date(2027, 1, 1),
            start_time=time(18, 0),
            excluded={date(2027, 4, 8): "Easter closure"},
        ),
        now=now,
    )
    assert [_local(s).date() for s in _sessions(group)] == [
        date(2027, 1, 14),
        date(2027, 2, 11),
        date(2027, 3, 11),
        date(2027, 5, 13),
        date(2027, 6, 10),
    ]
    assert all(_local(s).time() == time(18, 0) for s in _sessions(group))


def test_every_two_weeks_up_to_a_last_date_with_an_exclusion(factory: Factory) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    group = create_group(
        _data(
            factory,
            rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
            first_date=date(2027, 1, 6),
            last_date=date(2027, 3, 3),
            excluded={date(2027, 2, 3): None},
        ),
        now=now,
    )
    assert [_local(s).date() for s in _sessions(group)] == [
        date(2027, 1, 6),
        date(2027, 1, 20),
        date(2027, 2, 17),
        date(2027, 3, 3),  # the last date itself is included
    ]


def test_editing_the_pattern_keeps_cancelled_rescheduled_touched_and_past_sessions(
    factory: Factory,
) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    group = create_group(_data(factory), now=now)
    first, second, third, fourth, fifth = _sessions(group)[:5]
    past = factory.session(group, start_dt=now - timedelta(days=3))  # before "now"
    second.status, second.cancellation_reason, second.touched = "cancelled", "Ward closed", True
    moved_to = third.start_dt + timedelta(days=1, hours=2)
    third.rescheduled_from_dt, third.start_dt, third.touched = third.start_dt, moved_to, True
    fourth.notes, fourth.touched = "Room 2 this week", True
    kept = {s.id: s.start_dt for s in (past, second, third, fourth)}
    db.session.flush()

    result = update_group(
        group,
        _data(
            factory,
            venue_id=group.venue_id,
            rrule="FREQ=WEEKLY;BYDAY=TH",
            start_time=time(14, 0),
            duration_minutes=60,
            excluded={date(2027, 1, 14): "Staff training"},
        ),
        now=now,
    )
    db.session.expire_all()
    sessions = _sessions(group)
    survivors = {s.id: s.start_dt for s in sessions if s.id in kept}
    assert survivors == kept
    assert db.session.get(ReadingSession, second.id).status == "cancelled"
    assert db.session.get(ReadingSession, first.id) is None
    assert db.session.get(ReadingSession, fifth.id) is None
    generated = [s for s in sessions if s.id not in kept]
    assert generated and result.removed > 0 and result.created == len(generated)
    assert all(_local(s).weekday() == 3 and _local(s).time() == time(14, 0) for s in generated)
    assert all(s.duration_minutes == 60 for s in generated)
    assert date(2027, 1, 14) not in {_local(s).date() for s in generated}
    assert date(2027, 1, 7) in {_local(s).date() for s in generated}

    # Saving the same pattern again changes nothing.
    again = update_group(
        group,
        _data(
            factory,
            venue_id=group.venue_id,
            rrule="FREQ=WEEKLY;BYDAY=TH",
            start_time=time(14, 0),
            duration_minutes=60,
            excluded={date(2027, 1, 14): "Staff training"},
        ),
        now=now,
    )
    assert (again.created, again.removed) == (0, 0)


def test_pausing_a_group_removes_only_untouched_future_sessions(factory: Factory) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    group = create_group(_data(factory), now=now)
    sessions = _sessions(group)
    sessions[2].touched = True
    db.session.flush()
    update_group(group, _data(factory, venue_id=group.venue_id, status="paused"), now=now)
    assert [s.id for s in _sessions(group)] == [sessions[2].id]


def test_changing_the_lead_leader_moves_untouched_sessions_to_them(factory: Factory) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    first_leader = factory.user("reader_leader")
    second_leader = factory.user("reader_leader")
    group = create_group(_data(factory, lead_leader_id=first_leader.id), now=now)
    sessions = _sessions(group)
    sessions[0].touched = True
    db.session.flush()
    update_group(
        group,
        _data(factory, venue_id=group.venue_id, lead_leader_id=second_leader.id),
        now=now,
    )
    leaders = [s.leader_id for s in _sessions(group)]
    assert leaders[0] == first_leader.id
    assert set(leaders[1:]) == {second_leader.id}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"venue_id": 987654}, "venue_id"),
        ({"lead_leader_id": 987654}, "lead_leader_id"),
        ({"coleader_ids": [987654]}, "coleader_ids"),
        ({"status": "deleted"}, "status"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"tz_name": "Mars/Olympus"}, "tz_name"),
        ({"last_date": date(2026, 1, 1)}, "last_date"),
        ({"capacity": 0}, "capacity"),
        ({"audience_notes": "a" * 2001}, "audience_notes"),
        ({"rrule": "FREQ=WEEKLY;BYHOUR=9"}, "rrule"),
        ({"rrule": "FREQ=WEEKLY;BYDAY=TU", "last_date": date(2027, 1, 4)}, "last_date"),
        (
            {
                "rrule": "FREQ=WEEKLY;BYDAY=TU",
                "excluded": {date(2027, 1, 5): None},
                "last_date": date(2027, 1, 5),
            },
            "rrule",
        ),
    ],
)
def test_bad_group_input_names_the_field_and_writes_nothing(
    factory: Factory, changes: dict[str, object], field: str
) -> None:
    data = _data(factory, **changes)
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReadingGroup))
    with pytest.raises(GroupError) as caught:
        create_group(data)
    assert caught.value.field == field
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingGroup)) == before


def test_names_are_unique_whatever_their_case(factory: Factory) -> None:
    create_group(_data(factory, name="Willow Readers"))
    with pytest.raises(GroupError, match="already a group") as caught:
        create_group(_data(factory, name="willow readers"))
    assert caught.value.field == "name"


def test_a_partner_viewer_cannot_lead_a_group(factory: Factory) -> None:
    partner = factory.user("partner_viewer")
    with pytest.raises(GroupError) as caught:
        create_group(_data(factory, lead_leader_id=partner.id))
    assert caught.value.field == "lead_leader_id"


def test_coleaders_are_set_and_the_lead_is_not_also_a_coleader(factory: Factory) -> None:
    lead, co = factory.user("reader_leader"), factory.user("reader_leader")
    group = create_group(_data(factory, lead_leader_id=lead.id, coleader_ids=[co.id, lead.id]))
    assert [u.id for u in group.coleaders] == [co.id]
    assert group.is_led_by(co) and group.is_led_by(lead)


def test_excluded_dates_can_be_edited_in_place(factory: Factory) -> None:
    now = datetime(2027, 1, 1, tzinfo=UTC)
    excluded = {date(2027, 1, 12): "Training", date(2027, 1, 19): None}
    group = create_group(_data(factory, excluded=excluded), now=now)
    update_group(
        group,
        _data(
            factory,
            venue_id=group.venue_id,
            excluded={date(2027, 1, 19): "Inspection", date(2027, 1, 26): None},
        ),
        now=now,
    )
    db.session.expire_all()
    group = db.session.get(ReadingGroup, group.id)
    assert {(x.day, x.reason) for x in group.excluded_dates} == {
        (date(2027, 1, 19), "Inspection"),
        (date(2027, 1, 26), None),
    }
    days = {_local(s).date() for s in _sessions(group)}
    assert date(2027, 1, 12) in days
    assert date(2027, 1, 19) not in days and date(2027, 1, 26) not in days


def test_partnerships_are_added_changed_and_removed(factory: Factory) -> None:
    group = factory.group()
    funder = factory.organisation(kind="funder")
    partnership = add_partnership(
        group, PartnershipData(funder.id, "funder", date(2027, 1, 1), None)
    )
    with pytest.raises(GroupError) as caught:
        add_partnership(group, PartnershipData(funder.id, "funder", date(2027, 1, 1), None))
    assert caught.value.field == "role"
    with pytest.raises(GroupError) as caught:
        add_partnership(group, PartnershipData(987654, "host", date(2027, 1, 1)))
    assert caught.value.field == "organisation_id"
    with pytest.raises(GroupError) as caught:
        add_partnership(group, PartnershipData(funder.id, "sponsor", date(2027, 1, 1)))
    assert caught.value.field == "role"
    with pytest.raises(GroupError) as caught:
        update_partnership(
            partnership, PartnershipData(funder.id, "funder", date(2027, 1, 1), date(2026, 1, 1))
        )
    assert caught.value.field == "end_date"
    assert partnership.end_date is None  # a refused change leaves the row as it was
    update_partnership(
        partnership, PartnershipData(funder.id, "referrer", date(2027, 2, 1), date(2027, 12, 31))
    )
    assert (partnership.role, partnership.end_date) == ("referrer", date(2027, 12, 31))
    remove_partnership(partnership)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partnership)) == 0
