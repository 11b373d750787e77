"""Checks every feed a test produces goes through: RFC 5545 structure, icalendar's parser and
validation, and expansion with recurring-ical-events."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
import recurring_ical_events
from flask.testing import FlaskClient
from icalendar import Calendar, Event

from readerapp.extensions import db
from readerapp.feeds.operations import create_token
from readerapp.timeutil import utcnow

REQUIRED_EVENT_PROPERTIES = (
    "UID",
    "DTSTAMP",
    "LAST-MODIFIED",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "STATUS",
    "SEQUENCE",
)


@pytest.fixture
def commit_before_requests(client: FlaskClient) -> FlaskClient:
    """Make the test client end the test's own transaction before every request.

    On SQLite a test that has just read a row holds a transaction begun IMMEDIATE (the write
    lock); a request that writes, as the feed does to record what it served, would wait for it.
    """
    open_request = client.open

    def open_after_commit(*args: Any, **kwargs: Any) -> Any:
        db.session.commit()
        return open_request(*args, **kwargs)

    client.open = open_after_commit  # type: ignore[method-assign]
    return client


def check_lines(body: bytes) -> None:
    """CRLF line ends and folding at 75 octets: one bad line makes some clients drop a feed."""
    assert body.endswith(b"END:VCALENDAR\r\n")
    lines = body.split(b"\r\n")
    assert lines[-1] == b""
    for line in lines[:-1]:
        assert b"\n" not in line and b"\r" not in line, line
        assert len(line) <= 75, line


def parse_feed(body: bytes) -> Calendar:
    """Parse, validate and expand a feed; return the calendar."""
    check_lines(body)
    calendar = Calendar.from_ical(body)
    for component in calendar.walk():
        assert component.errors == [], (component.name, component.errors)
    for name in ("PRODID", "VERSION", "CALSCALE", "X-WR-CALNAME", "NAME"):
        assert calendar.get(name), name
    assert str(calendar["VERSION"]) == "2.0"
    assert b"REFRESH-INTERVAL;VALUE=DURATION:PT1H\r\n" in body
    assert b"X-PUBLISHED-TTL:PT1H\r\n" in body
    assert b"RRULE" not in body and b"RECURRENCE-ID" not in body and b"EXDATE" not in body
    events = list(calendar.walk("VEVENT"))
    if events:
        calendar.validate()
    zones = {str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")}
    uids = set()
    for event in events:
        for name in REQUIRED_EVENT_PROPERTIES:
            assert name in event, (name, event.get("UID"))
        assert event["UID"] not in uids, "duplicate UID"
        uids.add(event["UID"])
        assert str(event["STATUS"]) in {"CONFIRMED", "CANCELLED"}
        for name in ("DTSTART", "DTEND"):
            tzid = event[name].params.get("TZID")
            assert tzid, f"{name} without TZID"
            assert tzid in zones, f"no VTIMEZONE for {tzid}"
            assert event.decoded(name).tzinfo is not None
        assert event.decoded("DTEND") > event.decoded("DTSTART")
        assert event.end > event.start  # icalendar's own reading of the event's times
    # Every event appears exactly once when a client expands the calendar.
    if events:
        first = min(e.decoded("DTSTART") for e in events) - timedelta(days=1)
        last = max(e.decoded("DTEND") for e in events) + timedelta(days=1)
        expanded = recurring_ical_events.of(calendar).between(first, last)
        assert sorted(str(e["UID"]) for e in expanded) == sorted(str(u) for u in uids)
    return calendar


def events_by_uid(calendar: Calendar) -> dict[str, Event]:
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def new_feed(scope: str, target: object) -> str:
    """A committed token's feed path."""
    _, raw = create_token(scope, target)  # type: ignore[arg-type]
    db.session.commit()
    return f"/feeds/{raw}.ics"


def fetch(client: FlaskClient, path: str, **kwargs: object):
    """A feed request, as a calendar app makes it; a 200's body is parsed and validated.

    The test's own transaction ends first: on SQLite it would hold the write lock the feed
    needs to record what it served, as no real concurrent request ever holds it for long.
    """
    db.session.commit()
    response = client.get(path, **kwargs)
    if response.status_code == 200:
        parse_feed(response.data)
    return response


def get_calendar(client: FlaskClient, path: str) -> Calendar:
    response = fetch(client, path)
    assert response.status_code == 200, response.status_code
    return Calendar.from_ical(response.data)


def local(event: Event, name: str = "DTSTART") -> datetime:
    return event.decoded(name)


def now() -> datetime:
    return utcnow()
