"""The friendly pattern builder: choices a manager makes in the group form <-> an RRULE.

The builder covers what groups actually do (weekly, every N weeks, "the second Thursday of the
month"); anything else can still be entered as a custom RFC 5545 rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from ..limits import YEARS
from .limits import EXCLUDED_REASON
from .recurrence import DAY_NAMES, Pattern, PatternError, local_occurrences, normalise_rule

FREQUENCIES = {
    "weekly": "Every week",
    "every_n_weeks": "Every few weeks",
    "monthly": "Monthly, on a weekday (e.g. the second Thursday)",
    "custom": "Custom rule (RFC 5545 RRULE)",
}
WEEKDAYS = tuple(DAY_NAMES)  # MO .. SU, in order
MONTH_ORDINALS = {1: "First", 2: "Second", 3: "Third", 4: "Fourth", -1: "Last"}
MAX_COUNT = 1000
MAX_INTERVAL = 52
MAX_EXCLUDED = 366
# Far enough to find a first meeting of any sensible pattern (a yearly one included).
FIRST_MEETING_SEARCH_DAYS = 2 * 366 + 1


@dataclass
class PatternChoice:
    frequency: str = "weekly"
    interval: int | None = None
    weekdays: list[str] = field(default_factory=list)
    month_ordinal: int | None = None
    month_day: str | None = None
    custom_rule: str | None = None
    count: int | None = None


def build_rule(choice: PatternChoice) -> str:
    """The RRULE for a builder choice, normalised; PatternError says what to fix."""
    if choice.count is not None and not 1 <= choice.count <= MAX_COUNT:
        raise PatternError(f"the number of sessions must be between 1 and {MAX_COUNT}")
    if choice.frequency in {"weekly", "every_n_weeks"}:
        days = [d for d in WEEKDAYS if d in choice.weekdays]
        if not days or len(days) != len(set(choice.weekdays)):
            raise PatternError("choose at least one day of the week")
        parts = ["FREQ=WEEKLY"]
        if choice.frequency == "every_n_weeks":
            if choice.interval is None or not 2 <= choice.interval <= MAX_INTERVAL:
                raise PatternError(f"the number of weeks must be between 2 and {MAX_INTERVAL}")
            parts.append(f"INTERVAL={choice.interval}")
        parts.append("BYDAY=" + ",".join(days))
    elif choice.frequency == "monthly":
        if choice.month_ordinal not in MONTH_ORDINALS:
            raise PatternError("choose which week of the month (first, second, … last)")
        if choice.month_day not in WEEKDAYS:
            raise PatternError("choose the day of the week")
        parts = ["FREQ=MONTHLY", f"BYDAY={choice.month_ordinal}{choice.month_day}"]
    elif choice.frequency == "custom":
        rule = normalise_rule(choice.custom_rule or "")
        if choice.count is not None:
            if "COUNT=" in rule or "UNTIL=" in rule:
                raise PatternError("the rule already has COUNT or UNTIL: leave the count empty")
            rule += f";COUNT={choice.count}"
        return normalise_rule(rule)
    else:
        raise PatternError("choose how often the group meets")
    if choice.count is not None:
        parts.append(f"COUNT={choice.count}")
    return normalise_rule(";".join(parts))


def choice_from_rule(rule: str) -> PatternChoice:
    """Builder choices that reproduce ``rule``; rules the builder cannot express become custom."""
    try:
        text = normalise_rule(rule)
    except PatternError:
        return PatternChoice(frequency="custom", custom_rule=rule)
    parts = dict(piece.split("=", 1) for piece in text.split(";"))
    count = int(parts.pop("COUNT")) if "COUNT" in parts else None
    freq = parts.pop("FREQ")
    interval = int(parts.pop("INTERVAL", "1"))
    byday = parts.pop("BYDAY", "")
    custom = PatternChoice(frequency="custom", custom_rule=rule)
    if parts or not byday:  # anything else (BYMONTHDAY, WKST, UNTIL, …) needs the raw rule
        return custom
    days = byday.split(",")
    if freq == "WEEKLY" and all(d in WEEKDAYS for d in days):
        return PatternChoice(
            frequency="weekly" if interval == 1 else "every_n_weeks",
            interval=interval if interval > 1 else None,
            weekdays=days,
            count=count,
        )
    if freq == "MONTHLY" and interval == 1 and len(days) == 1:
        ordinal, day = days[0][:-2], days[0][-2:]
        try:
            number = int(ordinal)
        except ValueError:
            return custom
        if number in MONTH_ORDINALS and day in WEEKDAYS:
            return PatternChoice(
                frequency="monthly", month_ordinal=number, month_day=day, count=count
            )
    return custom


def check_meets(pattern: Pattern) -> None:
    """Refuse a pattern that never meets (e.g. a last date before the first matching day)."""
    end = pattern.first_date + timedelta(days=FIRST_MEETING_SEARCH_DAYS)
    if next(local_occurrences(pattern, pattern.first_date, end), None) is None:
        raise PatternError("this pattern has no sessions: check the days, dates and exclusions")


class ExclusionError(PatternError):
    """An excluded date on which the pattern has no session anyway."""


def check_exclusions(pattern: Pattern, days: Iterable[date]) -> None:
    """Refuse excluding a day the pattern does not meet on: it would do nothing, and is most
    likely a typing slip (the 24th for the 25th) that leaves the real day scheduled."""
    wanted = sorted(days)
    if not wanted:
        return
    unexcluded = replace(pattern, excluded=frozenset())
    meets = {local.date() for local in local_occurrences(unexcluded, wanted[0], wanted[-1])}
    idle = [day for day in wanted if day not in meets]
    if idle:
        named = ", ".join(day.strftime("%a %-d %b %Y") for day in idle[:3])
        more = f" and {len(idle) - 3} more" if len(idle) > 3 else ""
        raise ExclusionError(
            f"the group does not meet on {named}{more}, so there is no session to leave out: "
            "check the dates"
        )


def parse_excluded_dates(text: str) -> dict[date, str | None]:
    """Excluded dates, one a line: "2026-12-25 Christmas Day" or "25/12/2026" (reason optional).

    Raises PatternError naming every bad line.
    """
    result: dict[date, str | None] = {}
    problems: list[str] = []
    lines = [line.strip() for line in (text or "").splitlines()]
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        head, _, rest = line.partition(" ")
        day = _parse_day(head)
        if day is None:
            problems.append(f"line {number}: '{head[:20]}' is not a date (use YYYY-MM-DD)")
            continue
        reason = rest.strip().lstrip("-–:").strip() or None
        if reason is not None and len(reason) > EXCLUDED_REASON:
            problems.append(f"line {number}: the reason is over {EXCLUDED_REASON} characters")
            continue
        result[day] = reason
    if len(result) > MAX_EXCLUDED:
        problems.append(f"at most {MAX_EXCLUDED} excluded dates")
    if problems:
        raise PatternError("; ".join(problems))
    return result


def format_excluded_dates(days: dict[date, str | None]) -> str:
    return "\n".join(
        f"{d.isoformat()} {reason}" if reason else d.isoformat()
        for d, reason in sorted(days.items())
    )


def _parse_day(text: str) -> date | None:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            parsed = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if YEARS.min <= parsed.year <= YEARS.max:
            return parsed
    return None
