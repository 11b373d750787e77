"""The database itself refuses bad rows, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from readerapp.extensions import db
from readerapp.sessions.models import ReadingSession
from readerapp.users.models import User

from .factories import Factory


def _refused(statement: sa.Executable | None = None) -> None:
    with pytest.raises(IntegrityError):
        if statement is not None:
            db.session.execute(statement)
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "counts",
    [
        {"participants": -1, "first_time": 0},
        {"participants": 3, "first_time": -1},
        {"participants": 3, "first_time": 4},
        {"participants": 3, "first_time": 0, "staff_carers": -2},
        {"participants": 3, "first_time": 0, "volunteers": -1},
    ],
)
def test_attendance_counts_are_checked(factory: Factory, counts: dict[str, int]) -> None:
    session = factory.session(status="delivered")
    with pytest.raises(IntegrityError):
        factory.attendance(session, **counts)
    db.session.rollback()


def test_valid_attendance_is_accepted(factory: Factory) -> None:
    session = factory.session(status="delivered")
    factory.attendance(session, participants=4, first_time=4, staff_carers=0, volunteers=0)
    db.session.commit()


def test_same_group_twice_at_the_same_start_is_refused(factory: Factory) -> None:
    group = factory.group()
    start = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    factory.session(group, start_dt=start)
    with pytest.raises(IntegrityError):
        factory.session(group, start_dt=start)
    db.session.rollback()


def test_two_groups_may_meet_at_the_same_time(factory: Factory) -> None:
    start = datetime(2026, 3, 3, 10, 30, tzinfo=UTC)
    factory.session(factory.group(), start_dt=start)
    factory.session(factory.group(), start_dt=start)
    db.session.commit()


def test_cancelled_session_needs_a_reason(factory: Factory) -> None:
    with pytest.raises(IntegrityError):
        factory.session(status="cancelled", cancellation_reason=None)
    db.session.rollback()


def test_unknown_status_is_refused(factory: Factory) -> None:
    with pytest.raises(IntegrityError):
        factory.session(status="maybe")
    db.session.rollback()


def test_foreign_keys_are_enforced(factory: Factory) -> None:
    with pytest.raises(IntegrityError):
        db.session.add(
            ReadingSession(
                group_id=987654,
                start_dt=datetime(2026, 1, 1, tzinfo=UTC),
                tz_name="Europe/London",
                duration_minutes=60,
            )
        )
        db.session.flush()
    db.session.rollback()


def test_email_is_unique_whatever_its_case(factory: Factory) -> None:
    factory.user(email="sam@example.org")
    with pytest.raises(IntegrityError):
        factory.user(email="sam@example.org")
    db.session.rollback()
    with pytest.raises(IntegrityError):  # upper case never reaches the table
        factory.user(email="Sam@Example.org")
    db.session.rollback()


def test_partner_viewer_needs_an_organisation(factory: Factory) -> None:
    with pytest.raises(IntegrityError):
        factory.user(role="partner_viewer", organisation_id=None)
    db.session.rollback()


def test_group_dates_and_sizes_are_checked(factory: Factory) -> None:
    with pytest.raises(IntegrityError):
        factory.group(first_date=date(2026, 5, 1), last_date=date(2026, 4, 1))
    db.session.rollback()
    with pytest.raises(IntegrityError):
        factory.group(capacity=0)
    db.session.rollback()


def test_participant_code_unique_within_an_organisation(factory: Factory) -> None:
    org, other = factory.organisation(), factory.organisation()
    factory.participant(org, code="AB-001")
    factory.participant(other, code="AB-001")
    with pytest.raises(IntegrityError):
        factory.participant(org, code="AB-001")
    db.session.rollback()


def test_two_broadcasts_cannot_share_a_start_on_one_station(factory: Factory) -> None:
    episode = factory.episode()
    when = datetime(2026, 6, 2, 19, 0, tzinfo=UTC)
    factory.broadcast(episode, air_dt=when)
    with pytest.raises(IntegrityError):
        factory.broadcast(episode, air_dt=when)
    db.session.rollback()


def test_datetimes_come_back_aware_in_utc(factory: Factory) -> None:
    from zoneinfo import ZoneInfo

    local = datetime(2026, 7, 7, 10, 30, tzinfo=ZoneInfo("Europe/London"))
    session = factory.session(start_dt=local)
    db.session.commit()
    db.session.expire_all()
    loaded = db.session.get(ReadingSession, session.id)
    assert loaded.start_dt.tzinfo is not None
    assert loaded.start_dt == local
    assert loaded.start_dt.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None


def test_naive_datetimes_are_refused(factory: Factory) -> None:
    with pytest.raises(sa.exc.StatementError):
        factory.session(start_dt=datetime(2026, 7, 7, 10, 30))
    db.session.rollback()


def test_timestamps_are_set_at_write_time(factory: Factory) -> None:
    first = factory.user()
    second = factory.user()
    db.session.commit()
    assert first.created_at <= second.created_at
    before = first.updated_at
    first.display_name = "Changed Name"
    db.session.commit()
    assert db.session.get(User, first.id).updated_at >= before


def test_a_cancelled_broadcast_frees_its_start(factory: Factory) -> None:
    episode = factory.episode()
    when = datetime(2026, 6, 2, 19, 0, tzinfo=UTC)
    factory.broadcast(episode, air_dt=when, status="cancelled", cancellation_reason="Pre-empted")
    replacement = factory.broadcast(episode, air_dt=when)
    db.session.commit()
    assert replacement.id is not None


def test_a_new_broadcast_may_take_a_cancelled_ones_slot(factory: Factory) -> None:
    from datetime import time

    from readerapp.radio.operations import cancel_broadcast, create_broadcast

    episode = factory.episode()
    first = create_broadcast(
        episode=episode, day=date(2026, 6, 2), at=time(20, 0), tz_name="Europe/London"
    )
    cancel_broadcast(first, "Pre-empted by a news special")
    second = create_broadcast(
        episode=episode, day=date(2026, 6, 2), at=time(20, 0), tz_name="Europe/London"
    )
    db.session.commit()
    assert (first.status, second.status) == ("cancelled", "scheduled")
    assert first.air_dt == second.air_dt
