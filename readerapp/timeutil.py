"""Time helpers: everything stored is UTC, everything returned is aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask import current_app, has_app_context


def utcnow() -> datetime:
    """The current instant, aware, in UTC. Used as a column default (a callable, not a value)."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("naive datetime: every datetime must carry its zone")
    return value.astimezone(UTC)


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


def local_zone() -> ZoneInfo:
    """The service's display zone (READERAPP_TIMEZONE), Europe/London unless configured."""
    name = current_app.config["TIMEZONE"] if has_app_context() else "Europe/London"
    return ZoneInfo(name)


def to_local(value: datetime, tz: ZoneInfo | str | None = None) -> datetime:
    if isinstance(tz, str):
        tz = zone(tz)
    return as_utc(value).astimezone(tz or local_zone())


def local_to_utc(day: date, at: time, tz: ZoneInfo | str) -> datetime:
    """A wall-clock time on a day in a zone, as UTC.

    Non-existent times (the skipped hour in spring) move forward by the gap, and ambiguous
    ones (the repeated hour in autumn) take the first occurrence, as calendar apps do.
    """
    if isinstance(tz, str):
        tz = zone(tz)
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz, fold=0)
    # A wall time in the spring gap does not survive the round trip through UTC.
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        aware = (naive + timedelta(hours=1)).replace(tzinfo=tz)
    return aware.astimezone(UTC)
