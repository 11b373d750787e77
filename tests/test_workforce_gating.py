"""Leaders' checks and training gate the regulated settings: assigning a leader to a group,
adding them to a session, logging one. Refusals name what is missing and write nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.access import clearance_gaps, local_today
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.groups.operations import GroupData, GroupError, create_group, update_group
from readerapp.logbook.operations import Headcounts, SessionLog, log_session
from readerapp.sessions.models import ReadingSession
from readerapp.sessions.operations import SessionError, add_session
from readerapp.timeutil import utcnow
from readerapp.users.models import User
from readerapp.workforce.models import CheckRecord, TrainingRecord
from readerapp.workforce.operations import (
    CheckData,
    TrainingData,
    WorkforceError,
    add_check,
    add_training,
    lapsed_assignments,
    session_leader_lapsed,
)

from .factories import Factory

REGULATED = ("prison", "mental_health_inpatient", "care_home")


@pytest.fixture
def regulated(app: Flask) -> Iterator[None]:
    old = app.config["WORKFORCE_REGULATED_SETTINGS"]
    app.config["WORKFORCE_REGULATED_SETTINGS"] = REGULATED
    yield
    app.config["WORKFORCE_REGULATED_SETTINGS"] = old


def cleared(person: User, *, renewal_due: date, trained: bool = True) -> None:
    """``person`` holds an enhanced check (barred list) due for renewal on ``renewal_due``."""
    add_check(
        person,
        CheckData(
            check_type="enhanced_dbs_barred",
            certificate_number="0012 3456 7890",
            issued_on=renewal_due - timedelta(days=3 * 365),
            renewal_due=renewal_due,
        ),
    )
    if trained:
        add_training(person, TrainingData(course="leader_training", completed_on=date(2025, 3, 1)))


def _prison_group(factory: Factory, **kw: object) -> GroupData:
    kw.setdefault("name", "A Wing Readers")
    prison = factory.organisation(name=f"HMP Northmoor ({kw['name']})", kind="prison")
    venue = factory.venue(prison, setting_type="prison", unit="A Wing")
    kw.setdefault("rrule", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR,SA,SU")
    kw.setdefault("start_time", time(14, 0))
    kw.setdefault("duration_minutes", 90)
    kw.setdefault("first_date", local_today())
    return GroupData(venue_id=venue.id, **kw)  # type: ignore[arg-type]


def test_a_check_expiring_tomorrow_refuses_the_leader_for_a_prison_group_the_day_after(
    factory: Factory, regulated: None
) -> None:
    today = local_today()
    leader = factory.user("reader_leader", display_name="Ann Reader")
    cleared(leader, renewal_due=today + timedelta(days=1))
    # Assigned today, while the check is current.
    group = create_group(_prison_group(factory, lead_leader_id=leader.id))
    db.session.commit()

    # A session tomorrow: still current on its day.
    tomorrow = add_session(group, today + timedelta(days=1), time(18, 0), leader_id=leader.id)
    assert tomorrow.leader_id == leader.id
    db.session.commit()

    # The day after: refused, naming what is missing.
    before = db.session.scalar(sa.select(sa.func.count()).select_from(ReadingSession))
    with pytest.raises(SessionError) as refused:
        add_session(group, today + timedelta(days=2), time(18, 0), leader_id=leader.id)
    db.session.rollback()
    assert refused.value.field == "leader_id"
    assert "Ann Reader cannot lead in a prison setting" in refused.value.message
    assert "a current enhanced DBS check with barred list" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingSession)) == before

    # Nor can a group that starts the day after take them on.
    with pytest.raises(GroupError) as not_assigned:
        create_group(
            _prison_group(
                factory, name="B Wing", lead_leader_id=leader.id, first_date=today + timedelta(2)
            )
        )
    db.session.rollback()
    assert not_assigned.value.field == "lead_leader_id"
    assert "enhanced DBS check" in not_assigned.value.message
    assert db.session.scalar(sa.select(ReadingGroup).filter_by(name="B Wing")) is None

    # Nor log a session of the day after (as its leader, or naming them as its leader).
    later = ReadingSession(
        group_id=group.id,
        start_dt=utcnow().replace(microsecond=0) + timedelta(days=2),
        tz_name=group.tz_name,
        duration_minutes=90,
        leader_id=leader.id,
    )
    db.session.add(later)
    db.session.commit()
    entry = SessionLog(
        status="delivered", headcounts=Headcounts(participants=5), leader_id=leader.id
    )
    with pytest.raises(SessionError) as not_logged:
        log_session(
            later, entry, expected_version=None, actor=leader, now=later.end_dt + timedelta(1)
        )
    db.session.rollback()
    assert "missing a current enhanced DBS check" in not_logged.value.message
    assert db.session.get(ReadingSession, later.id).status == "scheduled"

    # The assignment made while it was current is listed as lapsed from the day after, and
    # the group's session that day says so.
    assert lapsed_assignments(today) == []
    lapses = lapsed_assignments(today + timedelta(days=2))
    assert [(lapse.group.id, lapse.person.id) for lapse in lapses] == [(group.id, leader.id)]
    assert session_leader_lapsed(later)
    assert not session_leader_lapsed(tomorrow)


def test_missing_training_is_named_and_unregulated_settings_need_nothing(
    factory: Factory, regulated: None
) -> None:
    today = local_today()
    leader = factory.user("reader_leader")
    cleared(leader, renewal_due=today + timedelta(days=400), trained=False)
    assert clearance_gaps(leader.id, "prison", today) == ["current training: leader training"]
    assert clearance_gaps(leader.id, "library", today) == []
    with pytest.raises(GroupError, match="missing current training: leader training"):
        create_group(_prison_group(factory, lead_leader_id=leader.id))
    db.session.rollback()
    # A basic check is kept on record but does not admit anyone to a regulated setting.
    other = factory.user("reader_leader")
    add_check(
        other,
        CheckData("basic_dbs", "001234567890", date(2025, 1, 1), today + timedelta(days=400)),
    )
    assert "a current enhanced DBS check with barred list" in clearance_gaps(
        other.id, "care_home", today
    )


def test_coleaders_are_gated_but_an_edit_keeps_those_already_assigned(
    factory: Factory, regulated: None
) -> None:
    today = local_today()
    lead, colleague, newcomer = (factory.user("reader_leader") for _ in range(3))
    for person in (lead, colleague):
        cleared(person, renewal_due=today + timedelta(days=1))
    data = _prison_group(factory, lead_leader_id=lead.id, coleader_ids=[colleague.id])
    group = create_group(data)
    db.session.commit()
    # Their checks lapse; renaming the group still works (they are listed as lapsed instead).
    data.name = "A Wing Readers (Tuesdays)"
    data.first_date = today + timedelta(days=2)
    update_group(group, data)
    db.session.commit()
    data.coleader_ids = [colleague.id, newcomer.id]
    with pytest.raises(GroupError) as refused:
        update_group(group, data)
    db.session.rollback()
    assert refused.value.field == "coleader_ids"
    assert newcomer.display_name in refused.value.message


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        (
            CheckData("enhanced_dbs_barred", "0012 3456 7890", date(2026, 5, 1), date(2026, 4, 1)),
            "renewal_due",
            "after the issue date",
        ),
        (
            CheckData("enhanced_dbs_barred", "1234", date(2026, 5, 1), date(2029, 5, 1)),
            "certificate_number",
            "12 digits",
        ),
        (
            CheckData("enhanced_dbs_barred", "00123456789X", date(2026, 5, 1), date(2029, 5, 1)),
            "certificate_number",
            "12 digits",
        ),
        (
            CheckData("police_check", "001234567890", date(2026, 5, 1), date(2029, 5, 1)),
            "check_type",
            "Choose one of",
        ),
        (
            CheckData(
                "enhanced_dbs",
                "001234567890",
                date(2026, 5, 1),
                date(2029, 5, 1),
                False,
                date(2026, 6, 1),
            ),
            "update_checked_on",
            "update-service",
        ),
    ],
)
def test_bad_checks_are_refused_with_a_clear_message_and_nothing_saved(
    factory: Factory, data: CheckData, field: str, words: str
) -> None:
    person = factory.user("reader_leader")
    db.session.commit()
    with pytest.raises(WorkforceError) as refused:
        add_check(person, data)
    db.session.rollback()
    assert refused.value.field == field and words in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckRecord)) == 0


def test_bad_training_is_refused_and_only_the_last_digits_of_a_certificate_are_kept(
    factory: Factory,
) -> None:
    person = factory.user("reader_leader")
    db.session.commit()
    with pytest.raises(WorkforceError, match="Unknown course"):
        add_training(person, TrainingData("juggling", date(2026, 1, 1)))
    with pytest.raises(WorkforceError, match="expiry must be after"):
        add_training(person, TrainingData("leader_training", date(2026, 1, 1), date(2025, 1, 1)))
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRecord)) == 0
    check = add_check(
        person,
        CheckData("enhanced_dbs_barred", "0012-3456-7890", date(2026, 1, 1), date(2029, 1, 1)),
    )
    db.session.commit()
    assert check.certificate_last_digits == "7890"
    stored = db.session.execute(sa.select(CheckRecord.__table__)).one()
    assert "001234567890" not in repr(tuple(stored))
