"""A group's RFC 5545 pattern: validating it, expanding it to UTC instants, describing it.

Patterns are expanded in local wall-clock time and only then converted to UTC, so a Tuesday
10:30 group stays at 10:30 local on both sides of a daylight-saving change.

Clock changes (the rule for a start time in the hour the clocks skip or repeat):
- a meeting whose wall-clock start the clocks *repeat* (01:30 on the last Sunday of October in
  London) keeps its wall-clock slot at the first occurrence, as on every other week;
- a meeting whose start the clocks *skip* (01:30 on the last Sunday of March) is refused when
  the pattern is saved (``check_clock_changes``), naming the dates: choose another start time
  or exclude those dates. Only a pattern saved before this check, or one a later time-zone
  database change catches out, still expands such a meeting, moved forward by the gap.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from dateutil.rrule import rrule, rrulestr

from ..timeutil import local_to_utc, skipped_spans, zone

ALLOWED_FREQUENCIES = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
DAY_NAMES = {
    "MO": "Monday",
    "TU": "Tuesday",
    "WE": "Wednesday",
    "TH": "Thursday",
    "FR": "Friday",
    "SA": "Saturday",
    "SU": "Sunday",
}
ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last"}


class PatternError(ValueError):
    """The recurrence rule cannot be used; the message says why, for a person to read."""


class ClockChangeError(PatternError):
    """The start time falls in the hour the clocks skip on some meeting days."""


@dataclass(frozen=True)
class Pattern:
    rule: str
    start_time: time
    duration_minutes: int
    tz_name: str
    first_date: date
    last_date: date | None = None
    excluded: frozenset[date] = frozenset()


# The start time and duration come from the group: parts that would move or multiply the
# occurrences within a day are refused rather than silently changing the wall-clock time.
FORBIDDEN_PARTS = {"BYHOUR", "BYMINUTE", "BYSECOND"}


def _parts(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    text = rule.strip()
    if text[:6].upper() == "RRULE:":
        text = text[6:]
    for piece in text.split(";"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        if not sep or not value:
            raise PatternError(f"'{piece}' is not of the form NAME=VALUE")
        parts[key.strip().upper()] = value.strip().upper()
    return parts


def normalise_rule(rule: str) -> str:
    """Check a rule and return it in a canonical form, or raise PatternError."""
    if not rule or not rule.strip():
        raise PatternError("a recurrence rule is required, e.g. FREQ=WEEKLY;BYDAY=TU")
    if len(rule) > 500:
        raise PatternError("the recurrence rule is too long")
    parts = _parts(rule)
    freq = parts.get("FREQ")
    if freq not in ALLOWED_FREQUENCIES:
        raise PatternError("FREQ must be one of DAILY, WEEKLY, MONTHLY or YEARLY")
    if "DTSTART" in parts:
        raise PatternError("leave DTSTART out: the first date and start time set it")
    if "UNTIL" in parts and "COUNT" in parts:
        raise PatternError("use UNTIL or COUNT, not both")
    forbidden = sorted(FORBIDDEN_PARTS & parts.keys())
    if forbidden:
        raise PatternError(f"leave {', '.join(forbidden)} out: the start time sets the hour")
    for key in ("INTERVAL", "COUNT"):
        # INTERVAL=0 would make the expansion loop for ever.
        if key in parts and (not parts[key].isdigit() or int(parts[key]) < 1):
            raise PatternError(f"{key} must be a whole number of at least 1")
    if "UNTIL" in parts:
        # A date or local date-time bound; a UTC ("Z") bound cannot apply to a local pattern.
        until = parts["UNTIL"].removesuffix("Z")
        if len(until) == 8 and until.isdigit():
            # A bare date means "up to and including that day": the expansion compares
            # date-times, and the date alone would read as midnight, dropping that day's meeting.
            until += "T235959"
        parts["UNTIL"] = until
    text = ";".join(
        f"{k}={v}" for k, v in [("FREQ", freq)] + [(k, v) for k, v in parts.items() if k != "FREQ"]
    )
    try:
        rrulestr(text, dtstart=datetime(2000, 1, 3, 10, 0))
    except (ValueError, TypeError) as exc:
        raise PatternError(f"not a valid recurrence rule: {exc}") from exc
    return text


def _rule(pattern: Pattern, cache: bool = False) -> rrule:
    dtstart = datetime.combine(pattern.first_date, pattern.start_time)
    return rrulestr(normalise_rule(pattern.rule), dtstart=dtstart, cache=cache)


def local_occurrences(pattern: Pattern, start: date, end: date) -> Iterator[datetime]:
    """Naive local start times of occurrences whose date is in [start, end]."""
    if pattern.last_date is not None:
        end = min(end, pattern.last_date)
    start = max(start, pattern.first_date)
    if end < start:
        return
    rule = _rule(pattern)
    lower = datetime.combine(start, time.min)
    upper = datetime.combine(end, time.max)
    for local in rule.between(lower, upper, inc=True):
        if local.date() not in pattern.excluded:
            yield local


def occurrences(pattern: Pattern, start: date, end: date) -> list[datetime]:
    """UTC start instants of occurrences whose local date is in [start, end]."""
    tz = zone(pattern.tz_name)
    return [
        local_to_utc(local.date(), local.time(), tz)
        for local in local_occurrences(pattern, start, end)
    ]


# Patterns are checked as far as the service's dates go (open-ended ones included).
LAST_CHECKED_DAY = date(2100, 12, 31)


def check_clock_changes(pattern: Pattern, since: date) -> None:
    """Refuse a pattern with a meeting from ``since`` on at a wall-clock time the clocks skip;
    the message names the first few such days, to exclude them or change the start time.
    (Meetings before ``since`` are history: they are not generated again.)"""
    first = max(since, pattern.first_date)
    last = min(pattern.last_date or LAST_CHECKED_DAY, LAST_CHECKED_DAY)
    # Only the days whose skipped span holds the start time need the (slower) rule.
    candidates = sorted(
        {
            day
            for start, end in skipped_spans(pattern.tz_name)
            for day in (start.date(), end.date())
            if start <= datetime.combine(day, pattern.start_time) < end
            and first <= day <= last
            and day not in pattern.excluded
        }
    )
    if not candidates:
        return
    rule = _rule(pattern, cache=True)
    skipped: list[date] = []
    for day in candidates:
        if rule.between(datetime.combine(day, time.min), datetime.combine(day, time.max), inc=True):
            skipped.append(day)
            if len(skipped) > 3:  # enough to name; the rest need not be expanded
                break
    if not skipped:
        return
    shown = ", ".join(f"{d:%-d %b %Y}" for d in skipped[:3])
    more = " and later years" if len(skipped) > 3 else ""
    raise ClockChangeError(
        f"{pattern.start_time:%H:%M} does not exist in {pattern.tz_name} on {shown}{more}: "
        "the clocks go forward then. Choose a start time outside that hour, or exclude "
        f"{'that date' if len(skipped) == 1 else 'those dates'}."
    )


def _ordinal_days(value: str) -> list[tuple[int | None, str]]:
    result: list[tuple[int | None, str]] = []
    for item in value.split(","):
        day = item[-2:]
        prefix = item[:-2]
        result.append((int(prefix) if prefix else None, day))
    return result


def _join(words: Iterable[str]) -> str:
    items = list(words)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def describe(pattern: Pattern) -> str:
    """The pattern in words, e.g. "Every Tuesday, 10:30–12:00"."""
    parts = _parts(normalise_rule(pattern.rule))
    interval = int(parts.get("INTERVAL", "1"))
    end_time = (
        datetime.combine(pattern.first_date, pattern.start_time)
        + timedelta(minutes=pattern.duration_minutes)
    ).time()
    hours = f"{pattern.start_time:%H:%M}–{end_time:%H:%M}"
    freq = parts["FREQ"]
    days = _ordinal_days(parts["BYDAY"]) if "BYDAY" in parts else []
    if freq == "WEEKLY":
        names = _join(DAY_NAMES[d] for _, d in days) or pattern.first_date.strftime("%A")
        head = f"Every {names}" if interval == 1 else f"Every {interval} weeks on {names}"
    elif freq == "MONTHLY":
        if days and days[0][0] is not None:
            nth = ORDINALS.get(days[0][0], f"{days[0][0]}th")
            names = _join(DAY_NAMES[d] for _, d in days)
            every = "every month" if interval == 1 else f"every {interval} months"
            head = f"The {nth} {names} of {every}"
        elif "BYSETPOS" in parts and days:
            nth = ORDINALS.get(int(parts["BYSETPOS"]), parts["BYSETPOS"])
            names = _join(DAY_NAMES[d] for _, d in days)
            head = f"The {nth} {names} of every month"
        else:
            day = parts.get("BYMONTHDAY", str(pattern.first_date.day))
            head = f"Monthly on day {day}"
    elif freq == "DAILY":
        head = "Every day" if interval == 1 else f"Every {interval} days"
    else:
        head = "Every year" if interval == 1 else f"Every {interval} years"
    tail = ""
    if "COUNT" in parts:
        tail = f", {parts['COUNT']} times"
    elif pattern.last_date:
        tail = f", until {pattern.last_date:%-d %B %Y}"
    zone_note = "" if pattern.tz_name == "Europe/London" else f" ({pattern.tz_name})"
    return f"{head}, {hours}{zone_note}{tail}"
