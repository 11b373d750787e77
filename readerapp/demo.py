"""Realistic demo data: partners, venues, groups, a year of sessions, a radio series.

Idempotent: every row is found by its natural key before it is created, and every "random"
choice is seeded by what it is about, so a second run changes nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from .attendance.models import Attendance, Participant, ParticipantAttendance
from .extensions import db
from .groups.models import ReadingGroup
from .groups.operations import GroupData, create_group, generate_sessions
from .organisations.models import Organisation, Partnership, Venue
from .outcomes.operations import load_builtin_measures
from .radio.models import Broadcast, Episode, Programme
from .sessions.models import ReadingMaterial, ReadingSession
from .timeutil import local_to_utc, to_local, utcnow, zone
from .users.models import User

DEMO_PASSWORD = "shared-reading-demo"  # noqa: S105  (published demo logins)
LONDON = "Europe/London"

ORGANISATIONS = [
    # name, kind, contact, email, phone, share location detail, prisons reached
    (
        "Northmoor NHS Foundation Trust",
        "nhs_trust",
        "Priya Shah",
        "arts.health@northmoor.nhs.example",
        "0161 496 0101",
        True,
        None,
    ),
    (
        "HMP Ashworth Vale",
        "prison",
        "Gareth Lloyd",
        "learning@ashworthvale.prison.example",
        "0161 496 0202",
        False,
        None,
    ),
    (
        "Riverside Libraries",
        "library",
        "Helen Okafor",
        "reading@riversidelibraries.example",
        "0161 496 0303",
        True,
        None,
    ),
    (
        "Wavelength Prison Radio",
        "radio_station",
        "Dev Patel",
        "schedule@wavelengthradio.example",
        "020 7946 0404",
        False,
        112,
    ),
    (
        "Rosewood Care Homes",
        "care_provider",
        "Margaret Byrne",
        "activities@rosewoodcare.example",
        "0151 496 0505",
        True,
        None,
    ),
    (
        "Harbour City Council",
        "local_authority",
        "Tom Fairley",
        "communities@harbourcity.gov.example",
        "0151 496 0606",
        True,
        None,
    ),
    (
        "The Lindqvist Foundation",
        "funder",
        "Anna Lindqvist",
        "grants@lindqvist.example",
        "020 7946 0707",
        False,
        None,
    ),
]

VENUES = [
    # organisation, name, setting, address, unit
    (
        "Northmoor NHS Foundation Trust",
        "Northmoor Hospital",
        "mental_health_inpatient",
        "Moor Lane, Northmoor NM4 2QT",
        None,  # the hospital holds several wards: each group names its own room
    ),
    (
        "Northmoor NHS Foundation Trust",
        "Cedar Secure Unit",
        "secure_hospital",
        "Cedar Road, Northmoor NM4 7HX",
        "Cedar Unit, Low Secure",
    ),
    (
        "Northmoor NHS Foundation Trust",
        "Northmoor Life Rooms",
        "community_centre",
        "12 Station Street, Northmoor NM1 1AB",
        None,
    ),
    ("HMP Ashworth Vale", "HMP Ashworth Vale", "prison", "Vale Road, Ashworth AV3 9PP", "A Wing"),
    (
        "HMP Ashworth Vale",
        "HMP Ashworth Vale Education Block",
        "prison",
        "Vale Road, Ashworth AV3 9PP",
        "Education, Room 4",
    ),
    (
        "Riverside Libraries",
        "Riverside Central Library",
        "library",
        "1 Market Square, Riverside RV1 2LB",
        "Local Studies Room",
    ),
    (
        "Riverside Libraries",
        "Eastfield Library",
        "library",
        "88 Eastfield Road, Riverside RV6 3EF",
        None,
    ),
    (
        "Rosewood Care Homes",
        "Rosewood House",
        "care_home",
        "4 Rosewood Avenue, Harbour City HC2 5RW",
        "Lounge, first floor",
    ),
    ("Harbour City Council", "Online (video call)", "online", None, None),
]

USERS = [
    # email, name, role, organisation
    ("admin@example.org", "Alex Morgan", "admin", None),
    ("manager@example.org", "Bernadette Quinn", "manager", None),
    ("leader@example.org", "Sam Carter", "reader_leader", None),
    ("leader2@example.org", "Joanna Adeyemi", "reader_leader", None),
    ("leader3@example.org", "Callum Reid", "reader_leader", None),
    ("partner@example.org", "Priya Shah", "partner_viewer", "Northmoor NHS Foundation Trust"),
    ("radio@example.org", "Dev Patel", "partner_viewer", "Wavelength Prison Radio"),
]


@dataclass(frozen=True)
class DemoGroup:
    name: str
    venue: str
    rrule: str
    start: time
    minutes: int
    leader: str
    coleader: str | None
    partners: tuple[tuple[str, str], ...]
    capacity: int
    register: bool  # a register of participant codes, not only a headcount
    audience: str
    room: str | None = None


GROUPS = [
    DemoGroup(
        "Willow Ward Readers",
        "Northmoor Hospital",
        "FREQ=WEEKLY;BYDAY=TU",
        time(10, 30),
        90,
        "leader@example.org",
        None,
        (("Northmoor NHS Foundation Trust", "host"), ("The Lindqvist Foundation", "funder")),
        8,
        False,
        "Adults on an acute mental-health ward; people come and go during the session.",
        room="Willow Ward",
    ),
    DemoGroup(
        "Cedar Unit Readers",
        "Cedar Secure Unit",
        "FREQ=WEEKLY;BYDAY=TH",
        time(14, 0),
        60,
        "leader2@example.org",
        None,
        (("Northmoor NHS Foundation Trust", "host"),),
        6,
        False,
        "Low-secure forensic unit; staff always present.",
    ),
    DemoGroup(
        "A Wing Reading Group",
        "HMP Ashworth Vale",
        "FREQ=WEEKLY;BYDAY=WE",
        time(9, 0),
        90,
        "leader3@example.org",
        "leader@example.org",
        (("HMP Ashworth Vale", "host"),),
        10,
        True,
        "Men on A Wing; referrals from the education department.",
    ),
    DemoGroup(
        "Education Block Readers",
        "HMP Ashworth Vale Education Block",
        "FREQ=WEEKLY;BYDAY=WE",
        time(10, 30),
        90,
        "leader3@example.org",
        None,
        (("HMP Ashworth Vale", "host"), ("Harbour City Council", "funder")),
        10,
        True,
        "Learners from all wings; back-to-back with A Wing.",
    ),
    DemoGroup(
        "Central Library Evening Group",
        "Riverside Central Library",
        "FREQ=WEEKLY;BYDAY=MO",
        time(18, 0),
        90,
        "leader2@example.org",
        None,
        (("Riverside Libraries", "host"),),
        14,
        True,
        "Open to all adults; many regulars.",
    ),
    DemoGroup(
        "Eastfield Afternoon Readers",
        "Eastfield Library",
        "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR",
        time(14, 0),
        90,
        "leader@example.org",
        None,
        (("Riverside Libraries", "host"), ("Harbour City Council", "referrer")),
        12,
        True,
        "Fortnightly; social-prescribing referrals welcome.",
    ),
    DemoGroup(
        "Rosewood House Readers",
        "Rosewood House",
        "FREQ=WEEKLY;BYDAY=TH",
        time(11, 0),
        60,
        "leader2@example.org",
        None,
        (("Rosewood Care Homes", "host"),),
        10,
        False,
        "Residents living with dementia; carers join in.",
    ),
    DemoGroup(
        "Life Rooms Saturday Group",
        "Northmoor Life Rooms",
        "FREQ=WEEKLY;BYDAY=SA",
        time(10, 30),
        90,
        "leader@example.org",
        "leader2@example.org",
        (("Northmoor NHS Foundation Trust", "host"), ("Harbour City Council", "referrer")),
        15,
        True,
        "Community group at the trust's Life Rooms hub.",
    ),
    DemoGroup(
        "Second Thursday Poetry Circle",
        "Riverside Central Library",
        "FREQ=MONTHLY;BYDAY=2TH",
        time(14, 0),
        90,
        "leader3@example.org",
        None,
        (("Riverside Libraries", "host"),),
        12,
        True,
        "Monthly, poems only.",
    ),
    DemoGroup(
        "Riverside Online Readers",
        "Online (video call)",
        "FREQ=WEEKLY;BYDAY=TU",
        time(19, 0),
        60,
        "leader2@example.org",
        None,
        (("Harbour City Council", "host"),),
        12,
        True,
        "For people who cannot travel; joins by video.",
    ),
]

STORIES = [
    ("The Open Window", "Saki"),
    ("The Gift of the Magi", "O. Henry"),
    ("The Necklace", "Guy de Maupassant"),
    ("Araby", "James Joyce"),
    ("The Happy Prince", "Oscar Wilde"),
    ("The Selfish Giant", "Oscar Wilde"),
    ("The Nightingale and the Rose", "Oscar Wilde"),
    ("The Tell-Tale Heart", "Edgar Allan Poe"),
    ("Eveline", "James Joyce"),
    ("The Bet", "Anton Chekhov"),
    ("The Last Leaf", "O. Henry"),
    ("Miss Brill", "Katherine Mansfield"),
    ("The Garden Party", "Katherine Mansfield"),
    ("The Monkey's Paw", "W. W. Jacobs"),
    ("The Signal-Man", "Charles Dickens"),
    ("An Occurrence at Owl Creek Bridge", "Ambrose Bierce"),
    ("The Lady with the Dog", "Anton Chekhov"),
    ("The Model Millionaire", "Oscar Wilde"),
]
POEMS = [
    ("Invictus", "William Ernest Henley"),
    ("The Road Not Taken", "Robert Frost"),
    ("Stopping by Woods on a Snowy Evening", "Robert Frost"),
    ("\u201cHope\u201d is the thing with feathers", "Emily Dickinson"),
    ("Ozymandias", "Percy Bysshe Shelley"),
    ("I Wandered Lonely as a Cloud", "William Wordsworth"),
    ("Sonnet 18", "William Shakespeare"),
    ("If\u2014", "Rudyard Kipling"),
    ("The Lake Isle of Innisfree", "W. B. Yeats"),
    ("Leisure", "W. H. Davies"),
    ("Adlestrop", "Edward Thomas"),
    ("Remember", "Christina Rossetti"),
    ("Pied Beauty", "Gerard Manley Hopkins"),
    ("Sea-Fever", "John Masefield"),
    ("Everyone Sang", "Siegfried Sassoon"),
    ("The Darkling Thrush", "Thomas Hardy"),
]
EXTRACTS = [
    ("Great Expectations, chapter 1", "Charles Dickens"),
    ("Silas Marner, chapter 12", "George Eliot"),
]

CANCELLATION_REASONS = [
    "Ward closed to visitors (infection control)",
    "Prison lockdown",
    "Reader leader unwell",
    "Venue unavailable",
    "Staff shortage on the unit",
]


def _rng(*key: object) -> random.Random:
    return random.Random(":".join(str(k) for k in key))


def _get_or_create(model: type, defaults: dict[str, object] | None = None, **key: object) -> object:
    row = db.session.scalar(sa.select(model).filter_by(**key))
    if row is None:
        row = model(**key, **(defaults or {}))
        db.session.add(row)
        db.session.flush()
    return row


@dataclass
class SeedSummary:
    created_users: list[tuple[str, str]]
    sessions: int
    broadcasts: int


def seed(now: datetime | None = None) -> SeedSummary:
    now = now or utcnow()
    today = to_local(now, LONDON).date()
    first_date = today - timedelta(days=365)

    orgs: dict[str, Organisation] = {}
    for name, kind, contact, email, phone, share, reach in ORGANISATIONS:
        orgs[name] = _get_or_create(
            Organisation,
            dict(
                kind=kind,
                contact_name=contact,
                contact_email=email,
                contact_phone=phone,
                share_location_detail=share,
                prisons_reached=reach,
            ),
            name=name,
        )
    venues: dict[str, Venue] = {}
    for org_name, name, setting, address, unit in VENUES:
        venues[name] = _get_or_create(
            Venue,
            dict(setting_type=setting, address=address, unit=unit),
            organisation_id=orgs[org_name].id,
            name=name,
        )
    users: dict[str, User] = {}
    created_users: list[tuple[str, str]] = []
    for email, name, role, org_name in USERS:
        user = db.session.scalar(sa.select(User).filter_by(email=email))
        if user is None:
            user = User(
                email=email,
                display_name=name,
                role=role,
                organisation_id=orgs[org_name].id if org_name else None,
            )
            user.set_password(DEMO_PASSWORD)
            db.session.add(user)
            db.session.flush()
        created_users.append((email, role))
        users[email] = user

    materials = {}
    for kind, items in (("short_story", STORIES), ("poem", POEMS), ("novel_extract", EXTRACTS)):
        for title, author in items:
            materials[(title, author)] = _get_or_create(
                ReadingMaterial, dict(kind=kind), title=title, author=author
            )
    stories = [materials[k] for k in STORIES]
    poems = [materials[k] for k in POEMS]

    session_count = 0
    for spec in GROUPS:
        group = db.session.scalar(sa.select(ReadingGroup).filter_by(name=spec.name))
        if group is None:
            # Through the operation a manager's form uses, so the demo gets what it does (the
            # venue's organisation as host among them).
            group = create_group(
                GroupData(
                    name=spec.name,
                    venue_id=venues[spec.venue].id,
                    room=spec.room,
                    rrule=spec.rrule,
                    start_time=spec.start,
                    duration_minutes=spec.minutes,
                    tz_name=LONDON,
                    first_date=first_date,
                    lead_leader_id=users[spec.leader].id,
                    coleader_ids=[users[spec.coleader].id] if spec.coleader else [],
                    capacity=spec.capacity,
                    keeps_register=spec.register,
                    audience_notes=spec.audience,
                ),
                now=now,
            )
            for org_name, role in spec.partners:
                _get_or_create(
                    Partnership,
                    organisation_id=orgs[org_name].id,
                    group_id=group.id,
                    role=role,
                    start_date=first_date,
                )
        generate_sessions(group, now=now, since=group.first_date)
        host = orgs[spec.partners[0][0]]
        session_count += _log_past_sessions(group, spec, host, now, stories, poems)
    broadcasts = _seed_radio(orgs["Wavelength Prison Radio"], today, now, materials)
    db.session.flush()
    load_builtin_measures()  # the ONS4 questions, as ``make run`` loads them anyway
    return SeedSummary(created_users=created_users, sessions=session_count, broadcasts=broadcasts)


def _log_past_sessions(
    group: ReadingGroup,
    spec: DemoGroup,
    host: Organisation,
    now: datetime,
    stories: list[ReadingMaterial],
    poems: list[ReadingMaterial],
) -> int:
    sessions = db.session.scalars(
        sa.select(ReadingSession)
        .where(ReadingSession.group_id == group.id)
        .order_by(ReadingSession.start_dt)
    ).all()
    # The last fortnight stays unlogged, as it would be in real life ("to log" on the dashboard).
    log_before = now - timedelta(days=10)
    pool: list[Participant] = []
    if spec.register:
        prefix = "".join(w[0] for w in spec.name.split()[:3]).upper()
        for n in range(1, spec.capacity + 9):
            pool.append(
                _get_or_create(Participant, organisation_id=host.id, code=f"{prefix}-{n:03d}")
            )
    seen: set[int] = set()
    story_index = _rng(group.name, "stories").randrange(len(stories))
    poem_index = _rng(group.name, "poems").randrange(len(poems))
    for session in sessions:
        if session.end_dt > log_before:
            continue
        rng = _rng(group.name, session.start_dt.isoformat())
        story = stories[story_index % len(stories)]
        poem = poems[poem_index % len(poems)]
        story_index += 1
        poem_index += 1
        if session.status != "scheduled":
            if session.attendance is not None:
                seen.update(r.participant_id for r in session.attendance.records)
            continue
        if rng.random() < 0.08:
            session.status = "cancelled"
            session.cancellation_reason = rng.choice(CANCELLATION_REASONS)
            session.sequence += 1
            session.touched = True
            continue
        session.status = "delivered"
        session.touched = True
        session.leader_id = group.lead_leader_id
        session.materials = [story, poem]
        staff = rng.randint(0, 2) if spec.register else rng.randint(1, 3)
        if spec.register:
            present = rng.sample(pool, rng.randint(max(2, spec.capacity // 3), spec.capacity))
            first = [p for p in present if p.id not in seen]
            attendance = Attendance(
                session_id=session.id,
                participants=len(present),
                first_time=len(first),
                staff_carers=staff,
                volunteers=rng.randint(0, 1),
                logged_by_id=group.lead_leader_id,
            )
            db.session.add(attendance)
            for person in present:
                db.session.add(
                    ParticipantAttendance(
                        session_id=session.id,
                        participant_id=person.id,
                        first_time=person.id not in seen,
                    )
                )
                seen.add(person.id)
        else:
            participants = rng.randint(2, spec.capacity)
            db.session.add(
                Attendance(
                    session_id=session.id,
                    participants=participants,
                    first_time=rng.randint(0, min(3, participants)),
                    staff_carers=staff,
                    volunteers=rng.randint(0, 1),
                    logged_by_id=group.lead_leader_id,
                )
            )
    db.session.flush()
    return len(sessions)


EPISODES = [
    (
        1,
        "Where We Begin",
        ("The Happy Prince", "Oscar Wilde"),
        ("Invictus", "William Ernest Henley"),
    ),
    (2, "Roads and Choices", ("The Bet", "Anton Chekhov"), ("The Road Not Taken", "Robert Frost")),
    (3, "Small Kindnesses", ("The Gift of the Magi", "O. Henry"), ("Leisure", "W. H. Davies")),
    (4, "Homeward", ("Eveline", "James Joyce"), ("The Lake Isle of Innisfree", "W. B. Yeats")),
    (
        5,
        "Holding On",
        ("The Last Leaf", "O. Henry"),
        ("\u201cHope\u201d is the thing with feathers", "Emily Dickinson"),
    ),
    (
        6,
        "Everyone Sang",
        ("The Selfish Giant", "Oscar Wilde"),
        ("Everyone Sang", "Siegfried Sassoon"),
    ),
]


def _seed_radio(
    station: Organisation,
    today: date,
    now: datetime,
    materials: dict[tuple[str, str], ReadingMaterial],
) -> int:
    programme = _get_or_create(
        Programme,
        dict(description="Six Shared Reading sessions recorded with men at HMP Ashworth Vale."),
        station_id=station.id,
        title="Shared Reading",
    )
    episodes = []
    for number, title, story, poem in EPISODES:
        episode = db.session.scalar(
            sa.select(Episode).filter_by(programme_id=programme.id, number=number)
        )
        if episode is None:
            episode = Episode(
                programme_id=programme.id, number=number, title=title, duration_minutes=55
            )
            episode.materials = [materials[story], materials[poem]]
            db.session.add(episode)
            db.session.flush()
        episodes.append(episode)

    tz = zone(LONDON)
    count = 0
    # Two runs of the series: one finished this year, one starting this week.
    for run, start_monday in (
        ("summer", today - timedelta(days=today.weekday() + 7 * 20)),
        ("current", today - timedelta(days=today.weekday())),
    ):
        for index, episode in enumerate(episodes):
            week = start_monday + timedelta(weeks=index)
            first_air = local_to_utc(week + timedelta(days=1), time(20, 0), tz)  # Tuesday 20:00
            repeat_air = local_to_utc(week + timedelta(days=5), time(21, 0), tz)  # Saturday 21:00
            first = _demo_broadcast(
                station, episode, first_air, f"demo:{run}:{episode.number}:first", None, now
            )
            _demo_broadcast(
                station, episode, repeat_air, f"demo:{run}:{episode.number}:repeat", first, now
            )
            count += 2
    return count


def _demo_broadcast(
    station: Organisation,
    episode: Episode,
    air: datetime,
    key: str,
    repeat_of: Broadcast | None,
    now: datetime,
) -> Broadcast:
    broadcast = db.session.scalar(sa.select(Broadcast).filter_by(source_key=key))
    if broadcast is not None:
        return broadcast
    broadcast = Broadcast(
        station_id=station.id,
        episode_id=episode.id,
        air_dt=air,
        tz_name=LONDON,
        duration_minutes=episode.duration_minutes,
        source_key=key,
        repeat_of_id=repeat_of.id if repeat_of else None,
    )
    end = air + timedelta(minutes=episode.duration_minutes)
    if end <= now:
        if key.endswith("4:repeat"):
            broadcast.status = "cancelled"
            broadcast.cancellation_reason = "Pre-empted by a national news special"
        else:
            broadcast.status = "aired"
            broadcast.aired_at = end
    db.session.add(broadcast)
    db.session.flush()
    return broadcast
