"""Retention and erasure remove names and notes, keep codes (retention) and every count."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.attendance.models import Attendance, Participant, ParticipantAttendance
from readerapp.extensions import db
from readerapp.privacy import apply_retention, erase_participant
from readerapp.privacy.operations import ERASED_CODE_PREFIX, PrivacyError
from readerapp.timeutil import to_local, utcnow

from .audit_support import all_changes_text, deferred_reads, events  # noqa: F401
from .factories import Factory
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, World, build_world, sign_in_as


def totals() -> tuple[int, int, int]:
    """What reports add up: headcounts, register rows, unique people registered."""
    return (
        db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Attendance.participants), 0))),
        db.session.scalar(sa.select(sa.func.count()).select_from(ParticipantAttendance)),
        db.session.scalar(
            sa.select(sa.func.count(sa.distinct(ParticipantAttendance.participant_id)))
        ),
    )


@pytest.fixture
def world(factory: Factory) -> World:
    return build_world(factory)


def _person(factory: Factory, w: World, days_ago: int, name: str) -> Participant:
    """A named participant whose only session was ``days_ago`` days ago."""
    session = factory.session(
        w.group, start_dt=utcnow() - timedelta(days=days_ago), status="delivered"
    )
    factory.attendance(session, participants=3, first_time=1)
    person = factory.participant(w.host, display_name=name, notes=f"notes about {name}")
    factory.register(session, person)
    return person


def test_retention_clears_names_and_notes_after_the_set_months(
    app: Flask, factory: Factory, world: World
) -> None:
    old = _person(factory, world, days_ago=800, name="Old Timer")
    recent = _person(factory, world, days_ago=600, name="Recent Reader")
    never = factory.participant(world.host, display_name="Never Came")
    never.created_at = utcnow() - timedelta(days=900)
    db.session.commit()
    before = totals()

    result = apply_retention()  # 24 months by default
    db.session.commit()

    assert result.cleared == 2
    assert (old.display_name, old.notes) == (None, None)
    assert old.code.startswith("P-") and old.erased_at is None  # the code stays
    assert never.display_name is None
    assert recent.display_name == "Recent Reader"
    assert world.participant.display_name == SECRET_NAME  # attended two weeks ago
    assert totals() == before


def test_retention_follows_the_setting_and_the_given_day(
    app: Flask, factory: Factory, world: World
) -> None:
    person = _person(factory, world, days_ago=200, name="Half Year")
    db.session.commit()
    assert apply_retention(months=12).cleared == 0
    assert apply_retention(now=utcnow() + timedelta(days=200), months=12).cleared == 1
    db.session.commit()
    assert person.display_name is None
    app.config["RETENTION_MONTHS"] = 1
    try:
        # the world's participant, last seen 14 days ago
        assert apply_retention().cleared == 0
        assert apply_retention(now=utcnow() + timedelta(days=40)).cleared == 1
    finally:
        app.config["RETENTION_MONTHS"] = 24


def test_retention_is_idempotent_and_audited(factory: Factory, world: World) -> None:
    _person(factory, world, days_ago=900, name="Long Gone")
    db.session.commit()
    assert apply_retention().cleared == 1
    db.session.commit()
    assert apply_retention().cleared == 0
    db.session.commit()
    runs = events(action="retention")
    assert [r.changes["cleared"] for r in runs] == [1, 0]
    updates = events(action="update", entity_type="participant")
    assert len(updates) == 1
    assert updates[0].changes == {"display_name": ["[hidden]", None], "notes": ["[hidden]", None]}
    assert "Long Gone" not in all_changes_text()


def test_retention_command(app: Flask, factory: Factory, world: World) -> None:
    _person(factory, world, days_ago=100, name="Soon Gone")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["privacy", "apply-retention", "--now", "2099-01-01T00:00Z"])
    assert result.exit_code == 0, result.output
    assert "2 participant(s)" in result.output
    db.session.rollback()
    names = db.session.scalars(sa.select(Participant.display_name)).all()
    assert names == [None, None]
    bad = runner.invoke(args=["privacy", "apply-retention", "--now", "2099-01-01T00:00"])
    assert bad.exit_code != 0 and "offset" in bad.output


def test_erasure_removes_identifying_data_at_once_and_keeps_counts(
    factory: Factory, world: World
) -> None:
    before = totals()
    person = db.session.get(Participant, world.participant.id)
    erase_participant(person)
    db.session.commit()
    assert (person.display_name, person.notes, person.erased_at is not None) == (None, None, True)
    assert person.code.startswith(ERASED_CODE_PREFIX) and SECRET_CODE not in person.code
    assert totals() == before
    (erasure,) = events(action="erase")
    assert erasure.entity_id == str(person.id)
    for secret in (SECRET_NAME, SECRET_NOTE, SECRET_CODE):
        assert secret not in all_changes_text()
    with pytest.raises(PrivacyError):
        erase_participant(person)


@pytest.mark.usefixtures("deferred_reads", "world")
def test_erasure_from_the_admin_page(
    app: Flask, client: FlaskClient, factory: Factory, world: World
) -> None:
    participant_id, admin = world.participant.id, world.admin
    sign_in_as(client, admin)
    db.session.rollback()
    before = totals()
    db.session.rollback()
    page = client.get(f"/participants/{participant_id}")
    assert "Erase personal data" in page.get_data(as_text=True)

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        unconfirmed = client.post(f"/participants/{participant_id}/erase", data={})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert unconfirmed.status_code == 400
    assert "Tick the box" in unconfirmed.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Participant, participant_id).display_name == SECRET_NAME
    db.session.rollback()

    app.config["WTF_CSRF_ENABLED"] = False
    try:
        done = client.post(f"/participants/{participant_id}/erase", data={"confirm": "y"})
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    assert done.status_code == 302
    db.session.rollback()
    person = db.session.get(Participant, participant_id)
    assert person.display_name is None and person.erased_at is not None
    assert totals() == before
    (erasure,) = events(action="erase")
    assert erasure.actor_id == admin.id
    db.session.rollback()
    after = client.get(f"/participants/{participant_id}").get_data(as_text=True)
    assert SECRET_NAME not in after and "Erase personal data" not in after


@pytest.mark.usefixtures("deferred_reads")
def test_erasure_needs_a_csrf_token(client: FlaskClient, world: World) -> None:
    participant_id = world.participant.id
    sign_in_as(client, world.admin)
    db.session.rollback()
    assert (
        client.post(f"/participants/{participant_id}/erase", data={"confirm": "y"}).status_code
        == 400
    )


def test_the_scheduler_job_applies_retention_as_the_scheduler(world: World) -> None:
    from readerapp.audit.models import AuditEvent
    from readerapp.scheduler import jobs

    participant_id = world.participant.id
    later = utcnow() + timedelta(days=31 * 30)
    assert jobs.apply_retention(now=later) >= 1
    db.session.expire_all()
    person = db.session.get(Participant, participant_id)
    assert person.display_name is None and person.notes is None
    assert person.code == SECRET_CODE
    labels = set(
        db.session.scalars(
            sa.select(AuditEvent.actor_label).where(AuditEvent.entity_type == "participant")
        )
    )
    assert "system:scheduler" in labels


def _answers_for(person: Participant, group, on: date) -> None:
    """Consent to evaluation and one ONS4 answer set, as a leader would record them."""
    from readerapp.outcomes.answers import AnswerSetData, record_consent, save_answer_set
    from readerapp.outcomes.models import MeasureVersion
    from readerapp.outcomes.operations import load_builtin_measures

    load_builtin_measures()
    version = db.session.scalar(sa.select(MeasureVersion))
    record_consent(person, "evaluation", True, on, None)
    save_answer_set(
        AnswerSetData(
            measure_version_id=version.id,
            group=group,
            participant=person,
            session=None,
            answered_on=on,
            mode="self_paper",
            answers={"happiness": 6},
        ),
        None,
    )


def _outcome_rows(person: Participant) -> tuple[int, int]:
    from readerapp.outcomes.models import AnswerSet, ConsentRecord

    return (
        db.session.scalar(
            sa.select(sa.func.count(AnswerSet.id)).filter_by(participant_id=person.id)
        ),
        db.session.scalar(
            sa.select(sa.func.count(ConsentRecord.id)).filter_by(participant_id=person.id)
        ),
    )


def test_erasure_deletes_the_persons_answers_and_consent_and_keeps_attendance(
    factory: Factory, world: World
) -> None:
    person = db.session.get(Participant, world.participant.id)
    _answers_for(person, world.group, to_local(utcnow()).date())
    before = totals()
    assert _outcome_rows(person) == (1, 1)
    erase_participant(person)
    db.session.commit()
    assert _outcome_rows(person) == (0, 0)
    assert totals() == before
    (erasure,) = events(action="erase")
    # The world's participant was also referred (a self-referral): its details are cleared.
    assert erasure.changes == {
        "answer_sets_removed": 1,
        "consent_entries_removed": 1,
        "referrals_cleared": 1,
    }


def test_retention_removes_outcomes_of_people_unseen_for_the_outcome_months(
    app: Flask, factory: Factory, world: World
) -> None:
    gone = _person(factory, world, days_ago=800, name="Long Gone")
    here = _person(factory, world, days_ago=10, name="Still Here")
    today = to_local(utcnow()).date()
    for person in (gone, here):
        _answers_for(person, world.group, today)
    # Answered two years ago, not since, and last at a session then too.
    from readerapp.outcomes.models import AnswerSet

    db.session.execute(
        sa.update(AnswerSet)
        .where(AnswerSet.participant_id == gone.id)
        .values(entered_at=utcnow() - timedelta(days=800))
    )
    db.session.commit()
    app.config["OUTCOMES_RETENTION_MONTHS"] = 12
    try:
        result = apply_retention()
        db.session.commit()
    finally:
        app.config["OUTCOMES_RETENTION_MONTHS"] = 72
    assert result.outcomes_people == 1
    assert _outcome_rows(gone) == (0, 0) and _outcome_rows(here) == (1, 1)
    # Someone seen at a session lately keeps their answers, however old.
    db.session.execute(
        sa.update(AnswerSet)
        .where(AnswerSet.participant_id == here.id)
        .values(entered_at=utcnow() - timedelta(days=800))
    )
    db.session.commit()
    assert apply_retention().outcomes_people == 0
    db.session.commit()
    (run, _) = events(action="retention")
    assert run.changes["outcomes_people"] == 1
