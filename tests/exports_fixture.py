"""A hand-counted set of sessions for export and report tests (counts worked out in comments).

Two partners in the first quarter of 2026 (Europe/London):
- "Northmoor Trust" hosts group 1 (mental-health ward, leader L1): sessions on 6, 13 (delivered),
  20 Jan (cancelled), 3, 10 Feb (delivered) and 3 Mar (not logged).
- "@Elsewhere Prison" hosts group 2 (prison, leader L2): 7 Jan (delivered), 31 Mar at 23:30 BST
  (delivered; 22:30 UTC, still in the quarter) and 1 Apr at 00:30 BST (delivered; 23:30 UTC on
  31 Mar, but the next quarter locally).
Free text starts with formula characters, to test neutralisation on every path.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from readerapp.extensions import db
from readerapp.models import Organisation, ReadingGroup, ReadingSession, User

from .factories import Factory

LONDON = ZoneInfo("Europe/London")
Q1 = (date(2026, 1, 1), date(2026, 3, 31))
GROUP1_NAME = '=cmd|"calc"'  # a formula with quotes: neutralised and CSV-quoted
VENUE2_NAME = "\tB Wing"
ORG2_NAME = "@Elsewhere Prison"
CANCEL_REASON = "-Ward closed"
CODE3 = "+P3"
TITLE1 = "=Danger"
# Group 1's ward; its organisation does not share location detail with partners.
ROOM1 = "Larch Ward"


@dataclass
class Fixture:
    org1: Organisation
    org2: Organisation
    group1: ReadingGroup
    group2: ReadingGroup
    leader1: User
    leader2: User
    sessions: dict[str, ReadingSession]


def local(y: int, m: int, d: int, hh: int = 10, mm: int = 30) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=LONDON)


def build(f: Factory | None = None) -> Fixture:
    f = f or Factory()
    org1 = f.organisation(name="Northmoor Trust", kind="nhs_trust")
    org2 = f.organisation(name=ORG2_NAME, kind="prison")
    leader1 = f.user("reader_leader", display_name="Lee Leader", email="lee@example.org")
    leader2 = f.user("reader_leader", display_name="Kim Leader", email="kim@example.org")
    venue1 = f.venue(org1, name="Northmoor Hospital", setting_type="mental_health_inpatient")
    venue2 = f.venue(org2, name=VENUE2_NAME, setting_type="prison")
    group1 = f.group(venue1, leader1, name=GROUP1_NAME, room=ROOM1)
    group2 = f.group(venue2, leader2, name="B Wing Readers")
    f.partnership(org1, group1, start_date=date(2025, 1, 1))
    f.partnership(org2, group2, start_date=date(2025, 1, 1))
    m1 = f.material(title=TITLE1, author="A. Poet")
    m2 = f.material(title="The Happy Prince", author="Oscar Wilde")
    p1 = f.participant(org1, code="P1", display_name="Secret Person")
    p2 = f.participant(org1, code="P2")
    p3 = f.participant(org1, code=CODE3)
    q1 = f.participant(org2, code="Q1")

    def delivered(group, when, counts, people, materials=()):
        s = f.session(group, start_dt=when, status="delivered")
        n, first = counts
        f.attendance(s, participants=n, first_time=first, staff_carers=1, volunteers=0)
        for person, is_first in people:
            f.register(s, person, first_time=is_first)
        s.materials = list(materials)
        return s

    sessions = {
        "s1": delivered(group1, local(2026, 1, 6), (5, 2), [(p1, True), (p2, True)], [m1]),
        "s2": delivered(group1, local(2026, 1, 13), (4, 0), [(p1, False), (p2, False)]),
        "s3": f.session(
            group1,
            start_dt=local(2026, 1, 20),
            status="cancelled",
            cancellation_reason=CANCEL_REASON,
        ),
        "s4": delivered(
            group1, local(2026, 2, 3), (6, 1), [(p1, False), (p2, False), (p3, True)], [m2]
        ),
        "s5": delivered(group1, local(2026, 2, 10), (3, 0), [(p1, False)]),
        "s6": f.session(group1, start_dt=local(2026, 3, 3)),
        "s7": delivered(group2, local(2026, 1, 7, 14, 0), (8, 8), [(q1, True)], [m2]),
        "s9": delivered(group2, local(2026, 3, 31, 23, 30), (2, 0), []),
        "s10": delivered(group2, local(2026, 4, 1, 0, 30), (7, 0), []),
    }
    db.session.commit()
    return Fixture(org1, org2, group1, group2, leader1, leader2, sessions)
