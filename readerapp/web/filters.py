"""Template filters: times shown in the local zone, durations and overdue spans in words."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Flask
from flask_login import current_user

from ..timeutil import local_span as _local_span
from ..timeutil import to_local


def local_dt(
    value: datetime | None, fmt: str = "%a %-d %b %Y, %H:%M", tz: str | None = None
) -> str:
    if value is None:
        return ""
    return to_local(value, tz).strftime(fmt)


def local_date(value: datetime | None, tz: str | None = None) -> str:
    return local_dt(value, "%a %-d %b %Y", tz)


def local_time(value: datetime | None, tz: str | None = None) -> str:
    return local_dt(value, "%H:%M", tz)


def local_span(
    start: datetime | None, end: datetime | None, tz: str | None = None, fmt: str = "%H:%M"
) -> str:
    """Start–end in the zone; each end converted from its own instant (see timeutil)."""
    if start is None or end is None:
        return local_dt(start, fmt, tz)
    return _local_span(start, end, tz, fmt)


def ago(delta: timedelta) -> str:
    """A span in words: "3 days", "5 hours"."""
    days = delta.days
    if days >= 14:
        return f"{days // 7} weeks"
    if days >= 1:
        return f"{days} day{'s' if days != 1 else ''}"
    hours = int(delta.total_seconds() // 3600)
    return f"{hours} hour{'s' if hours != 1 else ''}"


def register(app: Flask) -> None:
    app.add_template_filter(local_dt)
    app.add_template_filter(local_date)
    app.add_template_filter(local_time)
    app.add_template_filter(local_span)
    app.add_template_filter(ago)

    @app.context_processor
    def navigation() -> dict[str, object]:
        items = app.extensions.get("readerapp.nav", [])
        if not current_user.is_authenticated:
            return {"nav_items": []}
        return {"nav_items": [i for i in items if current_user.role in i.roles]}
