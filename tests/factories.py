"""``create_x`` helpers: rows with sensible defaults, flushed, for tests to adjust."""

from __future__ import annotations

import itertools
from datetime import date, datetime, time, timedelta
from typing import Any

from readerapp.attendance.models import Attendance, Participant, ParticipantAttendance
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.organisations.models import Organisation, Partnership, Venue
from readerapp.radio.models import Broadcast, Episode, Programme
from readerapp.sessions.models import ReadingMaterial, ReadingSession
from readerapp.timeutil import utcnow
from readerapp.users.models import User

PASSWORD = "correct horse battery"
_counter = itertools.count(1)


def _n() -> int:
    return next(_counter)


class Factory:
    def organisation(self, **kw: Any) -> Organisation:
        n = _n()
        kw.setdefault("name", f"Organisation {n}")
        kw.setdefault("kind", "nhs_trust")
        kw.setdefault("contact_email", f"contact{n}@org.example")
        org = Organisation(**kw)
        db.session.add(org)
        db.session.flush()
        return org

    def venue(self, organisation: Organisation | None = None, **kw: Any) -> Venue:
        organisation = organisation or self.organisation()
        kw.setdefault("name", f"Venue {_n()}")
        kw.setdefault("setting_type", "mental_health_inpatient")
        kw.setdefault("address", "1 Hospital Road")
        kw.setdefault("unit", "Ward 7")
        venue = Venue(organisation_id=organisation.id, **kw)
        db.session.add(venue)
        db.session.flush()
        return venue

    def user(self, role: str = "reader_leader", **kw: Any) -> User:
        n = _n()
        kw.setdefault("email", f"user{n}@example.org")
        kw.setdefault("display_name", f"Test User{n}")
        password = kw.pop("password", PASSWORD)
        if role == "partner_viewer" and "organisation_id" not in kw:
            kw["organisation_id"] = self.organisation().id
        user = User(role=role, **kw)
        user.set_password(password)
        db.session.add(user)
        db.session.flush()
        return user

    def group(
        self, venue: Venue | None = None, leader: User | None = None, **kw: Any
    ) -> ReadingGroup:
        venue = venue or self.venue()
        kw.setdefault("name", f"Group {_n()}")
        kw.setdefault("rrule", "FREQ=WEEKLY;BYDAY=TU")
        kw.setdefault("start_time", time(10, 30))
        kw.setdefault("duration_minutes", 90)
        kw.setdefault("tz_name", "Europe/London")
        kw.setdefault("first_date", date(2026, 1, 6))
        kw.setdefault("status", "active")
        group = ReadingGroup(venue_id=venue.id, lead_leader_id=leader.id if leader else None, **kw)
        db.session.add(group)
        db.session.flush()
        return group

    def partnership(
        self, organisation: Organisation, group: ReadingGroup, role: str = "host", **kw: Any
    ) -> Partnership:
        kw.setdefault("start_date", date(2026, 1, 1))
        p = Partnership(organisation_id=organisation.id, group_id=group.id, role=role, **kw)
        db.session.add(p)
        db.session.flush()
        return p

    def session(self, group: ReadingGroup | None = None, **kw: Any) -> ReadingSession:
        group = group or self.group()
        kw.setdefault("start_dt", utcnow().replace(microsecond=0) + timedelta(days=_n()))
        kw.setdefault("tz_name", group.tz_name)
        kw.setdefault("duration_minutes", group.duration_minutes)
        kw.setdefault("status", "scheduled")
        kw.setdefault("leader_id", group.lead_leader_id)
        s = ReadingSession(group_id=group.id, **kw)
        db.session.add(s)
        db.session.flush()
        return s

    def material(self, **kw: Any) -> ReadingMaterial:
        n = _n()
        kw.setdefault("title", f"Story {n}")
        kw.setdefault("author", f"Author {n}")
        kw.setdefault("kind", "short_story")
        m = ReadingMaterial(**kw)
        db.session.add(m)
        db.session.flush()
        return m

    def attendance(self, session: ReadingSession, **kw: Any) -> Attendance:
        kw.setdefault("participants", 5)
        kw.setdefault("first_time", 1)
        kw.setdefault("staff_carers", 1)
        kw.setdefault("volunteers", 0)
        a = Attendance(session_id=session.id, **kw)
        db.session.add(a)
        db.session.flush()
        return a

    def participant(self, organisation: Organisation, **kw: Any) -> Participant:
        kw.setdefault("code", f"P-{_n():04d}")
        p = Participant(organisation_id=organisation.id, **kw)
        db.session.add(p)
        db.session.flush()
        return p

    def register(
        self, session: ReadingSession, participant: Participant, first_time: bool = False
    ) -> ParticipantAttendance:
        r = ParticipantAttendance(
            session_id=session.id, participant_id=participant.id, first_time=first_time
        )
        db.session.add(r)
        db.session.flush()
        return r

    def station(self, **kw: Any) -> Organisation:
        kw.setdefault("kind", "radio_station")
        kw.setdefault("prisons_reached", 100)
        return self.organisation(**kw)

    def programme(self, station: Organisation | None = None, **kw: Any) -> Programme:
        station = station or self.station()
        kw.setdefault("title", f"Programme {_n()}")
        p = Programme(station_id=station.id, **kw)
        db.session.add(p)
        db.session.flush()
        return p

    def episode(self, programme: Programme | None = None, **kw: Any) -> Episode:
        programme = programme or self.programme()
        kw.setdefault("number", len(programme.episodes) + 1 + _n())
        kw.setdefault("title", f"Episode {_n()}")
        kw.setdefault("duration_minutes", 55)
        e = Episode(programme_id=programme.id, **kw)
        db.session.add(e)
        db.session.flush()
        return e

    def broadcast(self, episode: Episode | None = None, **kw: Any) -> Broadcast:
        episode = episode or self.episode()
        kw.setdefault("station_id", episode.programme.station_id)
        kw.setdefault("air_dt", utcnow().replace(microsecond=0) + timedelta(days=_n()))
        kw.setdefault("tz_name", "Europe/London")
        kw.setdefault("duration_minutes", episode.duration_minutes)
        b = Broadcast(episode_id=episode.id, **kw)
        db.session.add(b)
        db.session.flush()
        return b


def aware(y: int, m: int, d: int, hh: int = 0, mm: int = 0, tz: str = "UTC") -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(y, m, d, hh, mm, tzinfo=ZoneInfo(tz))
