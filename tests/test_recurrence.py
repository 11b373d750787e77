"""Group patterns: rules, expansion in local time across daylight saving, and regeneration."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from readerapp.extensions import db
from readerapp.groups.models import GroupExcludedDate, ReadingGroup
from readerapp.groups.operations import generate_sessions
from readerapp.groups.recurrence import (
    ClockChangeError,
    Pattern,
    PatternError,
    check_clock_changes,
    describe,
    normalise_rule,
    occurrences,
)
from readerapp.models import ReadingSession
from readerapp.sessions.operations import cancel_session, reschedule_session
from readerapp.timeutil import skipped_spans, to_local

from .factories import Factory, aware


def pattern(rule: str, first: date = date(2026, 1, 6), **kw: object) -> Pattern:
    kw.setdefault("start_time", time(10, 30))
    kw.setdefault("duration_minutes", 90)
    kw.setdefault("tz_name", "Europe/London")
    return Pattern(rule=rule, first_date=first, **kw)  # type: ignore[arg-type]


def local_days(p: Pattern, start: date, end: date) -> list[date]:
    return [to_local(dt, p.tz_name).date() for dt in occurrences(p, start, end)]


# --- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "FREQ=WEEKLY;BYDAY=TU"),
        ("rrule:freq=weekly;interval=2;byday=th", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH"),
        ("BYDAY=2TH;FREQ=MONTHLY", "FREQ=MONTHLY;BYDAY=2TH"),
        ("FREQ=WEEKLY;UNTIL=20260310", "FREQ=WEEKLY;UNTIL=20260310T235959"),
        ("FREQ=WEEKLY;UNTIL=20260310T120000Z", "FREQ=WEEKLY;UNTIL=20260310T120000"),
        ("FREQ=WEEKLY;COUNT=6", "FREQ=WEEKLY;COUNT=6"),
    ],
)
def test_normalise_rule(rule: str, expected: str) -> None:
    assert normalise_rule(rule) == expected


@pytest.mark.parametrize(
    "rule",
    [
        "",
        "   ",
        "FREQ=HOURLY",
        "FREQ=MINUTELY;INTERVAL=5",
        "BYDAY=TU",
        "FREQ=WEEKLY;DTSTART=20260101T000000",
        "FREQ=WEEKLY;COUNT=3;UNTIL=20260301",
        "FREQ=WEEKLY;INTERVAL=0",  # would never end
        "FREQ=WEEKLY;INTERVAL=-1",
        "FREQ=WEEKLY;COUNT=0",
        "FREQ=WEEKLY;BYHOUR=9,14",  # would move and multiply the wall-clock time
        "FREQ=WEEKLY;BYMINUTE=15",
        "FREQ=WEEKLY;BYDAY=XX",
        "FREQ=WEEKLY;NONSENSE=1",
        "FREQ=WEEKLY;BYDAY",
        "FREQ=WEEKLY;" + "BYDAY=TU;" * 60,
    ],
)
def test_bad_rules_are_refused_with_a_message(rule: str) -> None:
    with pytest.raises(PatternError) as error:
        normalise_rule(rule)
    assert str(error.value)


# --- expansion ----------------------------------------------------------------------------------


def test_weekly_tuesday_at_1030_local_on_both_sides_of_each_clock_change() -> None:
    p = pattern("FREQ=WEEKLY;BYDAY=TU")
    starts = occurrences(p, date(2026, 3, 1), date(2026, 11, 30))
    local = [to_local(s, "Europe/London") for s in starts]
    assert {(d.hour, d.minute) for d in local} == {(10, 30)}
    by_day = {d.date(): s for d, s in zip(local, starts, strict=True)}
    # Last Sunday of March 2026 is the 29th; of October, the 25th.
    assert by_day[date(2026, 3, 24)] == aware(2026, 3, 24, 10, 30)
    assert by_day[date(2026, 3, 31)] == aware(2026, 3, 31, 9, 30)
    assert by_day[date(2026, 10, 20)] == aware(2026, 10, 20, 9, 30)
    assert by_day[date(2026, 10, 27)] == aware(2026, 10, 27, 10, 30)


def test_every_two_weeks_and_second_thursday() -> None:
    fortnightly = pattern("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU")
    assert local_days(fortnightly, date(2026, 1, 1), date(2026, 2, 10)) == [
        date(2026, 1, 6),
        date(2026, 1, 20),
        date(2026, 2, 3),
    ]
    monthly = pattern("FREQ=MONTHLY;BYDAY=2TH", first=date(2026, 1, 1))
    assert local_days(monthly, date(2026, 1, 1), date(2026, 4, 30)) == [
        date(2026, 1, 8),
        date(2026, 2, 12),
        date(2026, 3, 12),
        date(2026, 4, 9),
    ]
    last_friday = pattern("FREQ=MONTHLY;BYDAY=-1FR", first=date(2026, 1, 1))
    assert local_days(last_friday, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 30),
        date(2026, 2, 27),
        date(2026, 3, 27),
    ]


def test_count_until_last_date_and_excluded_dates() -> None:
    counted = pattern("FREQ=WEEKLY;BYDAY=TU;COUNT=3")
    assert local_days(counted, date(2026, 1, 1), date(2026, 12, 31)) == [
        date(2026, 1, 6),
        date(2026, 1, 13),
        date(2026, 1, 20),
    ]
    # COUNT counts from the first date even when the window starts later.
    assert local_days(counted, date(2026, 1, 14), date(2026, 12, 31)) == [date(2026, 1, 20)]
    # A bare UNTIL date includes that day's meeting.
    until = pattern("FREQ=WEEKLY;BYDAY=TU;UNTIL=20260120")
    assert local_days(until, date(2026, 1, 1), date(2026, 12, 31))[-1] == date(2026, 1, 20)
    ending = pattern("FREQ=WEEKLY;BYDAY=TU", last_date=date(2026, 1, 27))
    assert local_days(ending, date(2026, 1, 1), date(2026, 12, 31))[-1] == date(2026, 1, 27)
    holidays = pattern(
        "FREQ=WEEKLY;BYDAY=TU", excluded=frozenset({date(2026, 1, 13), date(2026, 1, 20)})
    )
    assert local_days(holidays, date(2026, 1, 1), date(2026, 1, 31)) == [
        date(2026, 1, 6),
        date(2026, 1, 27),
    ]


def test_other_zones_and_a_time_in_the_spring_gap() -> None:
    new_york = pattern("FREQ=WEEKLY;BYDAY=SU", first=date(2026, 3, 1), tz_name="America/New_York")
    starts = occurrences(new_york, date(2026, 3, 1), date(2026, 3, 15))
    assert {to_local(s, "America/New_York").time() for s in starts} == {time(10, 30)}
    # 01:30 on the spring-forward Sunday does not exist in London: it moves to 02:30 BST.
    night = pattern("FREQ=WEEKLY;BYDAY=SU", first=date(2026, 3, 22), start_time=time(1, 30))
    gap = occurrences(night, date(2026, 3, 29), date(2026, 3, 29))
    assert gap == [aware(2026, 3, 29, 1, 30)]
    assert to_local(gap[0], "Europe/London").time() == time(2, 30)


def test_the_skipped_hours_of_a_zone() -> None:
    london = skipped_spans("Europe/London")
    assert (datetime(2027, 3, 28, 1, 0), datetime(2027, 3, 28, 2, 0)) in london
    assert len(london) == 101  # one a year, 2000–2100
    # Lord Howe Island skips half an hour; UTC never skips.
    assert (datetime(2027, 10, 3, 2, 0), datetime(2027, 10, 3, 2, 30)) in skipped_spans(
        "Australia/Lord_Howe"
    )
    assert skipped_spans("UTC") == ()


def test_a_pattern_meeting_in_the_skipped_hour_is_refused_naming_the_days() -> None:
    since = date(2026, 12, 1)
    sunday_night = pattern("FREQ=WEEKLY;BYDAY=SU", first=since, start_time=time(1, 30))
    with pytest.raises(ClockChangeError) as caught:
        check_clock_changes(sunday_night, since)
    message = str(caught.value)
    assert message.startswith(
        "01:30 does not exist in Europe/London on 28 Mar 2027, 26 Mar 2028, 25 Mar 2029 "
        "and later years: the clocks go forward then."
    )
    # Ten Sundays stop before 28 March; twenty reach it, unless it is excluded.
    check_clock_changes(
        pattern("FREQ=WEEKLY;BYDAY=SU;COUNT=10", first=since, start_time=time(1, 30)), since
    )
    twenty = pattern("FREQ=WEEKLY;BYDAY=SU;COUNT=20", first=since, start_time=time(1, 30))
    with pytest.raises(ClockChangeError, match=r"on 28 Mar 2027: .* exclude that date"):
        check_clock_changes(twenty, since)
    check_clock_changes(
        Pattern(**{**twenty.__dict__, "excluded": frozenset({date(2027, 3, 28)})}), since
    )


@pytest.mark.parametrize(
    ("rule", "at"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", time(1, 30)),  # never on the changing Sunday
        ("FREQ=WEEKLY;BYDAY=SU", time(2, 0)),  # 02:00 is the first time that exists again
        ("FREQ=WEEKLY;BYDAY=SU", time(0, 59)),
        ("FREQ=DAILY", time(10, 30)),
    ],
)
def test_patterns_clear_of_the_skipped_hour_are_kept(rule: str, at: time) -> None:
    since = date(2026, 12, 1)
    check_clock_changes(pattern(rule, first=since, start_time=at), since)


def test_a_pattern_in_the_repeated_hour_keeps_its_first_wall_clock_slot() -> None:
    # The documented rule: 01:30 on 31 October 2027 happens twice; the group meets at the first.
    night = pattern(
        "FREQ=WEEKLY;BYDAY=SU",
        first=date(2027, 10, 24),
        start_time=time(1, 30),
        last_date=date(2027, 12, 31),
    )
    check_clock_changes(night, date(2027, 10, 1))
    starts = occurrences(night, date(2027, 10, 24), date(2027, 11, 7))
    assert [to_local(s, "Europe/London").strftime("%d %H:%M %Z") for s in starts] == [
        "24 01:30 BST",
        "31 01:30 BST",
        "07 01:30 GMT",
    ]


def test_describe() -> None:
    assert describe(pattern("FREQ=WEEKLY;BYDAY=TU")) == "Every Tuesday, 10:30–12:00"
    assert describe(pattern("FREQ=WEEKLY;INTERVAL=2;BYDAY=TH")).startswith(
        "Every 2 weeks on Thursday"
    )
    assert describe(pattern("FREQ=MONTHLY;BYDAY=2TH")).startswith(
        "The second Thursday of every month"
    )
    assert describe(pattern("FREQ=WEEKLY;BYDAY=TU;COUNT=6")).endswith(", 6 times")
    assert describe(pattern("FREQ=WEEKLY;BYDAY=TU", last_date=date(2026, 7, 21))).endswith(
        "until 21 July 2026"
    )


# --- generating sessions ------------------------------------------------------------------------

NOW = aware(2026, 3, 2, 12, 0)  # a Monday


def _group(factory: Factory, **kw: object) -> ReadingGroup:
    kw.setdefault("first_date", date(2026, 1, 6))
    return factory.group(factory.venue(), factory.user(), **kw)


def _sessions(group: ReadingGroup) -> list[ReadingSession]:
    return list(
        db.session.scalars(
            sa.select(ReadingSession)
            .where(ReadingSession.group_id == group.id)
            .order_by(ReadingSession.start_dt)
        )
    )


def test_generation_fills_the_horizon_idempotently(factory: Factory) -> None:
    group = _group(factory)
    first = generate_sessions(group, now=NOW, horizon_days=28)
    assert first.created == 4  # 3, 10, 17, 24 March
    sessions = _sessions(group)
    assert [to_local(s.start_dt, "Europe/London").date() for s in sessions] == [
        date(2026, 3, 3),
        date(2026, 3, 10),
        date(2026, 3, 17),
        date(2026, 3, 24),
    ]
    assert all(
        s.occurrence_dt == s.start_dt and s.leader_id == group.lead_leader_id for s in sessions
    )
    again = generate_sessions(group, now=NOW, horizon_days=28)
    assert (again.created, again.removed, again.updated) == (0, 0, 0)
    # The horizon rolls forward a week later: one more, none duplicated.
    later = generate_sessions(group, now=NOW + timedelta(days=7), horizon_days=28)
    assert (later.created, later.removed) == (1, 0)
    assert len(_sessions(group)) == 5


def test_generation_across_dst_keeps_local_time(factory: Factory) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=250)
    local_times = {to_local(s.start_dt, "Europe/London").time() for s in _sessions(group)}
    assert local_times == {time(10, 30)}
    utc_times = {s.start_dt.time() for s in _sessions(group)}
    assert utc_times == {time(10, 30), time(9, 30)}


def test_editing_the_pattern_keeps_touched_cancelled_and_moved_occurrences(
    factory: Factory,
) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=28)
    s3, s10, s17, s24 = _sessions(group)
    cancel_session(s10, "Ward closed")
    reschedule_session(s17, date(2026, 3, 19), time(14, 0), 60)
    s24.notes = "Bring the large-print copies"
    s24.touched = True
    db.session.flush()
    moved_id, cancelled_id, touched_id = s17.id, s10.id, s24.id

    # The group moves to Wednesdays.
    group.rrule = "FREQ=WEEKLY;BYDAY=WE"
    result = generate_sessions(group, now=NOW, horizon_days=28)
    sessions = _sessions(group)
    ids = {s.id for s in sessions}
    assert {moved_id, cancelled_id, touched_id} <= ids
    assert s3.id not in ids  # untouched Tuesday: gone
    assert result.removed == 1
    wednesdays = [s for s in sessions if to_local(s.start_dt, "Europe/London").weekday() == 2]
    assert [to_local(s.start_dt, "Europe/London").date() for s in wednesdays] == [
        date(2026, 3, 4),
        date(2026, 3, 11),
        date(2026, 3, 18),
        date(2026, 3, 25),
    ]
    cancelled = db.session.get(ReadingSession, cancelled_id)
    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    moved = db.session.get(ReadingSession, moved_id)
    assert to_local(moved.start_dt, "Europe/London").date() == date(2026, 3, 19)

    # Back to Tuesdays: the moved occurrence's slot is not recreated beside it.
    group.rrule = "FREQ=WEEKLY;BYDAY=TU"
    generate_sessions(group, now=NOW, horizon_days=28)
    tuesdays = [
        to_local(s.start_dt, "Europe/London").date()
        for s in _sessions(group)
        if to_local(s.start_dt, "Europe/London").weekday() == 1
    ]
    assert tuesdays == [date(2026, 3, 3), date(2026, 3, 10), date(2026, 3, 24)]
    assert len([s for s in _sessions(group) if s.occurrence_dt == aware(2026, 3, 17, 10, 30)]) == 1


def test_past_occurrences_are_never_changed(factory: Factory) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=28)
    past_ids = {s.id for s in _sessions(group)}
    # Three weeks later the pattern changes: the first three occurrences have happened.
    later = NOW + timedelta(days=21)
    group.rrule = "FREQ=WEEKLY;BYDAY=TH"
    generate_sessions(group, now=later, horizon_days=28)
    remaining = {s.id for s in _sessions(group)}
    happened = {s.id for s in _sessions(group) if s.start_dt <= later}
    assert happened and happened <= past_ids
    assert len(past_ids - remaining) == 1  # only the untouched future Tuesday (24 March)


def test_excluded_dates_pausing_and_duration_changes(factory: Factory) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=28)
    group.excluded_dates.append(GroupExcludedDate(day=date(2026, 3, 10), reason="Closure"))
    db.session.flush()
    assert generate_sessions(group, now=NOW, horizon_days=28).removed == 1
    assert date(2026, 3, 10) not in {
        to_local(s.start_dt, "Europe/London").date() for s in _sessions(group)
    }

    group.duration_minutes = 60
    result = generate_sessions(group, now=NOW, horizon_days=28)
    assert result.updated == 3
    assert {(s.duration_minutes, s.sequence) for s in _sessions(group)} == {(60, 1)}

    group.status = "paused"
    assert generate_sessions(group, now=NOW, horizon_days=28).removed == 3
    assert _sessions(group) == []


def test_a_new_lead_leader_takes_over_untouched_occurrences(factory: Factory) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=28)
    first, *rest = _sessions(group)
    stand_in = factory.user()
    first.leader_id = stand_in.id
    first.touched = True
    successor = factory.user()
    group.lead_leader_id = successor.id
    db.session.flush()
    result = generate_sessions(group, now=NOW, horizon_days=28)
    assert result.updated == 3
    leaders = {s.id: s.leader_id for s in _sessions(group)}
    assert leaders[first.id] == stand_in.id
    assert {leaders[s.id] for s in rest} == {successor.id}
    assert {s.sequence for s in rest} == {0}  # not a change of time or status


def test_since_fills_the_past_for_demo_data(factory: Factory) -> None:
    group = _group(factory)
    generate_sessions(group, now=NOW, horizon_days=7, since=date(2026, 1, 1))
    days = [to_local(s.start_dt, "Europe/London").date() for s in _sessions(group)]
    assert days[0] == date(2026, 1, 6)
    assert days[-1] == date(2026, 3, 3)
    assert len(days) == len(set(days)) == 9
