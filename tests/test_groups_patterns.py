"""The pattern builder: choices <-> RRULE, excluded dates, patterns that never meet."""

from __future__ import annotations

from datetime import date, time

import pytest

from readerapp.groups.patterns import (
    PatternChoice,
    build_rule,
    check_meets,
    choice_from_rule,
    format_excluded_dates,
    parse_excluded_dates,
)
from readerapp.groups.recurrence import Pattern, PatternError, describe


@pytest.mark.parametrize(
    ("choice", "rule"),
    [
        (PatternChoice("weekly", weekdays=["TU"]), "FREQ=WEEKLY;BYDAY=TU"),
        (PatternChoice("weekly", weekdays=["TH", "MO"]), "FREQ=WEEKLY;BYDAY=MO,TH"),
        (
            PatternChoice("every_n_weeks", interval=2, weekdays=["WE"]),
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE",
        ),
        (
            PatternChoice("monthly", month_ordinal=2, month_day="TH", count=6),
            "FREQ=MONTHLY;BYDAY=2TH;COUNT=6",
        ),
        (PatternChoice("monthly", month_ordinal=-1, month_day="FR"), "FREQ=MONTHLY;BYDAY=-1FR"),
        (
            PatternChoice("custom", custom_rule="freq=monthly;bymonthday=15", count=3),
            "FREQ=MONTHLY;BYMONTHDAY=15;COUNT=3",
        ),
    ],
)
def test_builder_choices_make_rules_and_come_back(choice: PatternChoice, rule: str) -> None:
    assert build_rule(choice) == rule
    again = choice_from_rule(rule)
    assert build_rule(again) == rule
    if choice.frequency != "custom":
        assert again == PatternChoice(
            choice.frequency,
            interval=choice.interval,
            weekdays=sorted(choice.weekdays, key="MOTUWETHFRSASU".index),
            month_ordinal=choice.month_ordinal,
            month_day=choice.month_day,
            count=choice.count,
        )


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        (PatternChoice("weekly"), "at least one day"),
        (PatternChoice("weekly", weekdays=["XX"]), "at least one day"),
        (PatternChoice("every_n_weeks", weekdays=["TU"]), "between 2 and 52"),
        (PatternChoice("every_n_weeks", interval=99, weekdays=["TU"]), "between 2 and 52"),
        (PatternChoice("monthly", month_day="TH"), "which week"),
        (PatternChoice("monthly", month_ordinal=2), "day of the week"),
        (PatternChoice("weekly", weekdays=["TU"], count=0), "between 1 and 1000"),
        (PatternChoice("custom", custom_rule="FREQ=HOURLY"), "FREQ must be"),
        (PatternChoice("custom", custom_rule="FREQ=WEEKLY;COUNT=3", count=4), "COUNT or UNTIL"),
        (PatternChoice("fortnightly-ish"), "how often"),
    ],
)
def test_builder_refuses_incomplete_choices(choice: PatternChoice, message: str) -> None:
    with pytest.raises(PatternError, match=message):
        build_rule(choice)


def test_rules_the_builder_cannot_express_stay_custom() -> None:
    for rule in ("FREQ=DAILY", "FREQ=MONTHLY;BYMONTHDAY=1", "FREQ=WEEKLY;BYDAY=TU;WKST=SU"):
        choice = choice_from_rule(rule)
        assert choice.frequency == "custom"
        assert choice.custom_rule == rule


def test_excluded_dates_parse_with_reasons_and_report_bad_lines() -> None:
    text = "2026-12-25 Christmas Day\n\n26/12/2026 - Boxing Day\n2027-01-01"
    days = parse_excluded_dates(text)
    assert days == {
        date(2026, 12, 25): "Christmas Day",
        date(2026, 12, 26): "Boxing Day",
        date(2027, 1, 1): None,
    }
    assert parse_excluded_dates(format_excluded_dates(days)) == days
    with pytest.raises(PatternError) as caught:
        parse_excluded_dates("2026-02-30\n2026-12-25 ok\nChristmas\n2026-12-26 " + "x" * 201)
    message = str(caught.value)
    assert "line 1" in message and "line 3" in message and "line 4" in message
    assert "line 2" not in message


def test_a_pattern_that_never_meets_is_refused() -> None:
    pattern = Pattern(
        rule="FREQ=WEEKLY;BYDAY=TU",
        start_time=time(10, 30),
        duration_minutes=90,
        tz_name="Europe/London",
        first_date=date(2027, 3, 1),  # a Monday
        last_date=date(2027, 3, 1),
    )
    with pytest.raises(PatternError, match="no sessions"):
        check_meets(pattern)
    check_meets(Pattern(**{**pattern.__dict__, "last_date": date(2027, 3, 2)}))


def test_second_thursday_in_words() -> None:
    pattern = Pattern(
        rule=build_rule(PatternChoice("monthly", month_ordinal=2, month_day="TH")),
        start_time=time(14, 0),
        duration_minutes=60,
        tz_name="Europe/London",
        first_date=date(2027, 1, 1),
    )
    assert describe(pattern) == "The second Thursday of every month, 14:00–15:00"
