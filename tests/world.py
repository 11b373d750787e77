"""A small, complete world for tests that need one of everything, with two of each side so
tests can check that one partner or leader never sees the other's data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from readerapp.extensions import db
from readerapp.models import (
    Broadcast,
    Concern,
    Episode,
    Organisation,
    Participant,
    Programme,
    ReadingGroup,
    ReadingMaterial,
    ReadingSession,
    Referral,
    User,
    Venue,
)
from readerapp.timeutil import utcnow

from .factories import Factory

# A participant name and note no feed, partner view, report or log may ever show.
SECRET_NAME = "Zebulon Quartermaine-Fitzwilliam"
SECRET_NOTE = "Confidential: disclosed a family bereavement"
SECRET_CODE = "ZQF-7731"
# What a safeguarding concern says: only designated safeguarding leads may ever read it, on any
# page, API answer, export or log line (the leader who raised it included).
SECRET_CONCERN = "Mentioned the blue Vauxhall parked outside the ward every night"
SECRET_CONCERN_ACTION = "Sat with them until the charge nurse Quennell came"


@dataclass
class World:
    admin: User
    manager: User
    leader: User  # leads `group`
    other_leader: User  # leads `other_group` only
    partner: User  # partner_viewer of `host`
    other_partner: User  # partner_viewer of `other_host`
    host: Organisation
    other_host: Organisation
    station: Organisation
    venue: Venue
    group: ReadingGroup
    other_group: ReadingGroup
    past_session: ReadingSession  # delivered, with attendance and a register
    due_session: ReadingSession  # past, not logged yet
    future_session: ReadingSession
    other_session: ReadingSession  # in other_group
    material: ReadingMaterial
    participant: Participant
    programme: Programme
    episode: Episode
    broadcast: Broadcast
    dsl: User  # a manager who is the designated safeguarding lead
    concern: Concern  # raised by `leader` about `participant` at `past_session`
    referral: Referral  # of `participant`, a self-referral, before `past_session`

    def user_for(self, role: str) -> User | None:
        return None if role == "anonymous" else getattr(self, role)


def build_world(f: Factory | None = None) -> World:
    f = f or Factory()
    admin = f.user("admin", display_name="Ada Admin")
    manager = f.user("manager", display_name="Mona Manager")
    leader = f.user("reader_leader", display_name="Lee Leader")
    other_leader = f.user("reader_leader", display_name="Olive Otherleader")
    # Its participants hold names (the canaries below), as only an organisation keeping names can.
    host = f.organisation(name="Northmoor Trust", kind="nhs_trust", keep_names=True)
    other_host = f.organisation(name="HMP Elsewhere", kind="prison")
    partner = f.user("partner_viewer", display_name="Pat Partner", organisation_id=host.id)
    other_partner = f.user(
        "partner_viewer", display_name="Oscar Otherpartner", organisation_id=other_host.id
    )
    station = f.station(name="Wave Radio")
    venue = f.venue(host, name="Northmoor Hospital", unit="Willow Ward")
    other_venue = f.venue(other_host, name="HMP Elsewhere", setting_type="prison", unit="B Wing")
    group = f.group(venue, leader, name="Willow Readers", first_date=date(2026, 1, 6))
    other_group = f.group(
        other_venue, other_leader, name="B Wing Readers", rrule="FREQ=WEEKLY;BYDAY=WE"
    )
    f.partnership(host, group)
    f.partnership(other_host, other_group)
    now = utcnow().replace(second=0, microsecond=0)
    material = f.material(title="The Happy Prince", author="Oscar Wilde")
    past = f.session(group, start_dt=now - timedelta(days=14), status="delivered", touched=True)
    past.materials = [material]
    past.notes = SECRET_NOTE
    f.attendance(past, participants=6, first_time=2, staff_carers=1, volunteers=1)
    participant = f.participant(host, code=SECRET_CODE, display_name=SECRET_NAME, notes=SECRET_NOTE)
    f.register(past, participant, first_time=True)
    due = f.session(group, start_dt=now - timedelta(days=3))
    future = f.session(group, start_dt=now + timedelta(days=4))
    other = f.session(other_group, start_dt=now + timedelta(days=5))
    programme = f.programme(station, title="Shared Reading")
    episode = f.episode(programme, number=1, title="Where We Begin")
    broadcast = f.broadcast(episode, air_dt=now + timedelta(days=2))
    dsl = f.user("manager", display_name="Dora Safeguarding", safeguarding_lead=True)
    concern = Concern(
        session_id=past.id,
        participant_id=participant.id,
        category="exploitation",
        seen_or_said=SECRET_CONCERN,
        action_taken=SECRET_CONCERN_ACTION,
        who_was_told="Ward manager",
        occurred_at=past.start_dt,
        raised_by_id=leader.id,
    )
    db.session.add(concern)
    referral = Referral(
        participant_id=participant.id,
        referred_on=(past.start_dt - timedelta(days=7)).date(),
        reason="loneliness",
        status="first_session",
        first_session_on=past.start_dt.date(),
    )
    db.session.add(referral)
    db.session.commit()
    return World(
        admin=admin,
        manager=manager,
        leader=leader,
        other_leader=other_leader,
        partner=partner,
        other_partner=other_partner,
        host=host,
        other_host=other_host,
        station=station,
        venue=venue,
        group=group,
        other_group=other_group,
        past_session=past,
        due_session=due,
        future_session=future,
        other_session=other,
        material=material,
        participant=participant,
        programme=programme,
        episode=episode,
        broadcast=broadcast,
        dsl=dsl,
        concern=concern,
        referral=referral,
    )


def sign_in_as(client, user: User | None) -> None:
    """Put the user in the test client's session, as Flask-Login would after signing in."""
    user_id = None
    if user is not None:
        from datetime import timedelta

        from readerapp.users.operations import start_sign_in

        start_sign_in(user, remember=False, lasts=timedelta(hours=1), user_agent="test client")
        user_id = user.get_id()
    # Reading an expired user began a transaction in the test's own session; end it, or on
    # SQLite its write lock would keep the request under test waiting (a POST begins IMMEDIATE).
    db.session.commit()
    with client.session_transaction() as session:
        session.clear()
        if user_id is not None:
            session["_user_id"] = user_id
            session["_fresh"] = True


def client_for(app, user: User | None):  # type: ignore[no-untyped-def]
    """A test client of its own, signed in as ``user``: several people can act in one test."""
    client = app.test_client()
    sign_in_as(client, user)
    return client


__all__ = [
    "SECRET_CODE",
    "SECRET_NAME",
    "SECRET_NOTE",
    "World",
    "build_world",
    "client_for",
    "sign_in_as",
]
