"""Feeds as bytes: each event's VEVENT text and the calendar around them, from rows alone.

Building an icalendar ``Event`` costs about a third of a millisecond, so each event's serialised
text is kept in ``feed_event_cache`` under a fingerprint of every value it shows and rebuilt only
when one of them changes; a feed is then a join of cached strings. Everything here is a pure
function of the rows ``queries.py`` reads (tuples, no ORM objects): unchanged data gives
byte-identical output, so ETags stay stable. Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
from icalendar import Calendar, Event, Timezone

from ..groups.models import place_words

# Part of every fingerprint and feed state: changing how events are written (here, or by an
# icalendar upgrade) rebuilds them all, and no client keeps a 304 for bytes that changed.
FORMAT_VERSION = f"1/{icalendar.__version__}"
PRODID = "-//readerapp//Shared Reading feeds//EN"
# UIDs must never change, so they do not depend on the host a feed happens to be served from.
UID_DOMAIN = "readerapp"
CONTENT_TYPE = "text/calendar; charset=utf-8"


def joined_text(values: Sequence[Any]) -> str:
    # str() of every value (datetimes print in full, to the microsecond): map() keeps this in C,
    # and it runs for every event of every feed build.
    return "\x1f".join(map(str, values))


def _fingerprint(values: Sequence[Any]) -> str:
    return hashlib.blake2b(
        (FORMAT_VERSION + "|" + joined_text(values)).encode(), digest_size=16
    ).hexdigest()


def _stamp(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(microsecond=0)


def _first_name(display_name: str | None) -> str:
    words = (display_name or "").split()
    return words[0] if words else ""


def _event(
    *,
    uid: str,
    updated_at: datetime,
    start: datetime,
    minutes: int,
    tz_name: str,
    summary: str,
    location: str,
    description: str,
    cancelled: bool,
    sequence: int,
) -> str:
    tz = ZoneInfo(tz_name)
    event = Event()
    # UID and DTSTAMP always given: icalendar would otherwise invent a random UID and "now".
    event.add("uid", uid)
    event.add("dtstamp", _stamp(updated_at))
    event.add("last-modified", _stamp(updated_at))
    event.add("dtstart", start.astimezone(tz))
    event.add("dtend", (start + timedelta(minutes=minutes)).astimezone(tz))
    event.add("summary", f"Cancelled: {summary}" if cancelled else summary)
    if location:
        event.add("location", location)
    event.add("description", description)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("sequence", sequence)
    event.add("transp", "TRANSPARENT" if cancelled else "OPAQUE")
    return event.to_ical().decode()


def session_event(row: Any, materials: Sequence[str]) -> str:
    cancelled = row.status == "cancelled"
    location = place_words(
        row.venue_name, row.venue_unit, row.group_room, detail=row.share_location_detail
    )
    lines = [f"Group: {row.group_name}"]
    leader = _first_name(row.leader_name)
    if leader:
        lines.append(f"Reader leader: {leader}")
    if materials:
        lines.append("Read: " + "; ".join(materials))
    if cancelled:
        lines.insert(0, f"Cancelled: {row.cancellation_reason or 'no reason given'}")
    return _event(
        uid=f"session-{row.id}@{UID_DOMAIN}",
        updated_at=as_utc_datetime(row.updated_at),
        start=as_utc_datetime(row.start_dt),
        minutes=row.duration_minutes,
        tz_name=row.tz_name,
        summary=f"Shared Reading: {row.group_name}",
        location=location,
        description="\n".join(lines),
        cancelled=cancelled,
        sequence=row.sequence,
    )


def broadcast_event(row: Any, materials: Sequence[str]) -> str:
    cancelled = row.status == "cancelled"
    lines = [f"{row.programme_title}, episode {row.episode_number}: {row.episode_title}"]
    if materials:
        lines.append("Read: " + "; ".join(materials))
    if cancelled:
        lines.insert(0, f"Cancelled: {row.cancellation_reason or 'no reason given'}")
    return _event(
        uid=f"broadcast-{row.id}@{UID_DOMAIN}",
        updated_at=as_utc_datetime(row.updated_at),
        start=as_utc_datetime(row.air_dt),
        minutes=row.duration_minutes,
        tz_name=row.tz_name,
        summary=f"{row.programme_title}: {row.episode_title}",
        location=row.station_name,
        description="\n".join(lines),
        cancelled=cancelled,
        sequence=row.sequence,
    )


# --- the calendar ---------------------------------------------------------------------------


@dataclass
class BuiltFeed:
    body: bytes
    etag: str  # quoted, strong
    newest: datetime | None  # the newest updated_at among the events
    # (kind, row_id, fingerprint, body) for events whose cached text was missing or stale
    misses: list[tuple[str, int, str, str]] = field(default_factory=list)


@lru_cache(maxsize=64)
def vtimezone(tz_name: str, first_year: int, last_year: int) -> str:
    """The zone's rules over the years the feed covers (Outlook shifts by an hour without it)."""
    component = Timezone.from_tzid(
        tz_name, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )
    return component.to_ical().decode()


@lru_cache(maxsize=256)
def calendar_head(name: str) -> str:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    cal.add("name", name)
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    # Written as text: icalendar would render a timedelta here as "1:00:00".
    cal.add("x-published-ttl", "PT1H")
    text = cal.to_ical().decode()
    return text.removesuffix("END:VCALENDAR\r\n")


def as_utc_datetime(value: datetime | str) -> datetime:
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class FeedRows:
    """What a feed shows, as read by ``queries.feed_rows``: event rows (with their cached text
    and its fingerprint last) and, per session or episode, the texts it read."""

    sessions: Sequence[Any] = ()
    session_materials: dict[int, list[str]] = field(default_factory=dict)
    broadcasts: Sequence[Any] = ()
    broadcast_materials: dict[int, list[str]] = field(default_factory=dict)


def render_feed(calendar_name: str, years: tuple[int, int], rows: FeedRows) -> BuiltFeed:
    """The feed's bytes, reusing cached event texts; misses are reported for the caller to store."""
    items: list[tuple[datetime, int, str]] = []  # (start, tie-break, text)
    misses: list[tuple[str, int, str, str]] = []
    zones: set[str] = set()
    newest: Any = None  # raw, as the driver returns it (see queries._raw)

    # Each row ends with the cached text's fingerprint and the text; the values before them are
    # everything the event shows.
    for row in rows.sessions:
        values = row[:-2]
        session_id, start, status, updated = row[0], row[1], row[4], row[7]
        # Materials are shown once the session is delivered, never before.
        shown = rows.session_materials.get(session_id, ()) if status == "delivered" else ()
        fp = _fingerprint((*values, *shown))
        text = row[-1]
        if row[-2] != fp or text is None:
            text = session_event(row, shown)
            misses.append(("session", session_id, fp, text))
        items.append((start, session_id * 2, text))
        zones.add(row[2])
        if newest is None or updated > newest:
            newest = updated

    for row in rows.broadcasts:
        values = row[:-2]
        broadcast_id, start, updated = row[0], row[1], row[7]
        # A broadcast plays a finished recording: what it reads is known in advance.
        shown = rows.broadcast_materials.get(row[8], ())
        fp = _fingerprint((*values, *shown))
        text = row[-1]
        if row[-2] != fp or text is None:
            text = broadcast_event(row, shown)
            misses.append(("broadcast", broadcast_id, fp, text))
        items.append((start, broadcast_id * 2 + 1, text))
        zones.add(row[2])
        if newest is None or updated > newest:
            newest = updated

    items.sort(key=lambda item: (item[0], item[1]))
    first_year, last_year = years
    parts = [calendar_head(calendar_name)]
    parts.extend(vtimezone(name, first_year, last_year) for name in sorted(zones))
    parts.extend(text for _, _, text in items)
    parts.append("END:VCALENDAR\r\n")
    body = "".join(parts).encode()
    etag = '"' + hashlib.sha256(body).hexdigest() + '"'
    return BuiltFeed(
        body=body,
        etag=etag,
        newest=None if newest is None else as_utc_datetime(newest),
        misses=misses,
    )
