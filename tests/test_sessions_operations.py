"""Session and attendance write operations: validation, locking, sequence, registers."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa

from readerapp.attendance.models import Attendance, Participant, ParticipantAttendance
from readerapp.attendance.operations import parse_codes
from readerapp.extensions import db
from readerapp.groups.operations import generate_sessions
from readerapp.logbook.operations import Headcounts, RegisterInput, SessionLog, log_session
from readerapp.sessions.models import ReadingMaterial, ReadingSession
from readerapp.sessions.operations import (
    NewMaterial,
    SessionError,
    VersionConflict,
    cancel_session,
    previous_readings,
    reschedule_session,
    suggest_materials,
)
from readerapp.timeutil import to_local, utcnow

from .factories import Factory


def _delivered(**kw: object) -> SessionLog:
    kw.setdefault("status", "delivered")
    kw.setdefault("headcounts", Headcounts(participants=4, first_time=1, staff_carers=1))
    return SessionLog(**kw)  # type: ignore[arg-type]


@pytest.fixture
def setup(factory: Factory):
    leader = factory.user("reader_leader")
    group = factory.group(leader=leader)
    past = factory.session(group, start_dt=utcnow().replace(microsecond=0) - timedelta(days=2))
    db.session.commit()
    return leader, group, past


def test_log_delivered_sets_everything_and_bumps_version_and_sequence(setup) -> None:
    leader, _group, past = setup
    version, sequence = past.version, past.sequence
    log_session(
        past,
        _delivered(
            new_materials=[NewMaterial("The Dead", "James Joyce", "short_story")],
            notes="Lively",
            leader_id=leader.id,
        ),
        expected_version=version,
        actor=leader,
    )
    db.session.commit()
    assert past.status == "delivered" and past.touched
    assert past.sequence == sequence + 1
    assert past.version > version
    assert [m.title for m in past.materials] == ["The Dead"]
    assert past.attendance.participants == 4
    assert past.attendance.logged_by_id == leader.id


def test_material_reused_by_title_and_author_ignoring_case(setup, factory: Factory) -> None:
    leader, _group, past = setup
    existing = factory.material(title="The Dead", author="James Joyce")
    log_session(
        past,
        _delivered(new_materials=[NewMaterial(" the dead ", "JAMES JOYCE", "poem")]),
        expected_version=past.version,
        actor=leader,
    )
    assert [m.id for m in past.materials] == [existing.id]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial)) == 1


def test_materials_only_change_still_moves_updated_at_and_version(setup, factory: Factory) -> None:
    leader, _group, past = setup
    log_session(past, _delivered(), expected_version=past.version, actor=leader)
    db.session.commit()
    before_updated, before_version = past.updated_at, past.version
    material = factory.material()
    log_session(
        past, _delivered(material_ids=[material.id]), expected_version=past.version, actor=leader
    )
    db.session.commit()
    assert past.version > before_version
    assert past.updated_at >= before_updated
    assert past.sequence == 1  # status did not change the second time


def test_stale_version_raises_conflict_and_writes_nothing(setup) -> None:
    leader, _group, past = setup
    with pytest.raises(VersionConflict):
        log_session(past, _delivered(), expected_version=past.version + 1, actor=leader)
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        (SessionLog(status="maybe"), "status"),
        (SessionLog(status="cancelled"), "cancellation_reason"),
        (SessionLog(status="cancelled", cancellation_reason="x" * 501), "cancellation_reason"),
        (_delivered(headcounts=Headcounts(participants=-1)), "participants"),
        (_delivered(headcounts=Headcounts(participants=2, first_time=3)), "first_time"),
        (_delivered(headcounts=Headcounts(participants=1001)), "participants"),
        (_delivered(material_ids=[999_999]), "materials"),
        (_delivered(new_materials=[NewMaterial("", "Someone")]), "materials"),
        (_delivered(new_materials=[NewMaterial("Title", "Someone", "opera")]), "materials"),
        (_delivered(notes="n" * 5001), "notes"),
        (_delivered(leader_id=999_999), "leader_id"),
        (
            _delivered(
                headcounts=Headcounts(participants=1, first_time=1),
                register=RegisterInput(new_codes=("A1", "A2")),
            ),
            "participants",
        ),
        (_delivered(register=RegisterInput(codes=("NOPE-1",))), "register_codes"),
    ],
)
def test_bad_input_names_the_field(setup, entry: SessionLog, field: str) -> None:
    leader, _group, past = setup
    with pytest.raises(SessionError) as excinfo:
        log_session(past, entry, expected_version=past.version, actor=leader)
    assert excinfo.value.field == field


def test_future_session_cannot_be_delivered(factory: Factory) -> None:
    future = factory.session(start_dt=utcnow() + timedelta(days=1))
    with pytest.raises(SessionError) as excinfo:
        log_session(future, _delivered(), expected_version=None, actor=None)
    assert excinfo.value.field == "status"


def test_parse_codes_splits_dedupes_and_rejects_names() -> None:
    assert parse_codes("a-1, B2\nb2;C3  ") == ("A-1", "B2", "C3")
    with pytest.raises(SessionError):
        parse_codes("Mary <script>")


def test_register_quick_add_and_first_time_logic(setup, factory: Factory) -> None:
    leader, group, past = setup
    host_id = group.venue.organisation_id
    older = factory.session(group, start_dt=past.start_dt - timedelta(days=7))
    db.session.commit()
    counts = Headcounts(participants=2, first_time=2)
    log_session(
        past,
        _delivered(headcounts=counts, register=RegisterInput(new_codes=("p-1", "P-2"))),
        expected_version=past.version,
        actor=leader,
    )
    people = db.session.scalars(sa.select(Participant).order_by(Participant.code)).all()
    assert [(p.code, p.organisation_id) for p in people] == [("P-1", host_id), ("P-2", host_id)]
    flags = dict(
        db.session.execute(
            sa.select(ParticipantAttendance.participant_id, ParticipantAttendance.first_time)
        ).all()
    )
    assert all(flags.values())

    # P-1 turns out to have come a week earlier too: that becomes their first time.
    log_session(
        older,
        _delivered(
            headcounts=Headcounts(participants=1, first_time=1),
            register=RegisterInput(codes=("P-1",)),
        ),
        expected_version=older.version,
        actor=leader,
    )
    rows = db.session.execute(
        sa.select(
            Participant.code, ParticipantAttendance.session_id, ParticipantAttendance.first_time
        )
        .join(Participant)
        .order_by(Participant.code, ParticipantAttendance.session_id)
    ).all()
    by = {(code, sid): first for code, sid, first in rows}
    assert by[("P-1", older.id)] is True
    assert by[("P-1", past.id)] is False
    assert by[("P-2", past.id)] is True


def test_new_code_that_exists_is_refused(setup, factory: Factory) -> None:
    leader, group, past = setup
    factory.participant(group.venue.organisation, code="X-1")
    with pytest.raises(SessionError) as excinfo:
        log_session(
            past,
            _delivered(register=RegisterInput(new_codes=("X-1",))),
            expected_version=past.version,
            actor=leader,
        )
    assert excinfo.value.field == "new_codes"


def test_code_of_another_organisation_is_unknown(setup, factory: Factory) -> None:
    leader, _group, past = setup
    factory.participant(factory.organisation(), code="ELSE-1")
    with pytest.raises(SessionError) as excinfo:
        log_session(
            past,
            _delivered(register=RegisterInput(codes=("ELSE-1",))),
            expected_version=past.version,
            actor=leader,
        )
    assert excinfo.value.field == "register_codes"


def test_cancelling_a_logged_session_clears_its_attendance(setup) -> None:
    leader, _group, past = setup
    log_session(
        past,
        _delivered(headcounts=Headcounts(2, 1), register=RegisterInput(new_codes=("Q1",))),
        expected_version=past.version,
        actor=leader,
    )
    log_session(
        past,
        SessionLog(status="cancelled", cancellation_reason="Ward closed"),
        expected_version=past.version,
        actor=leader,
    )
    db.session.commit()
    assert past.attendance is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ParticipantAttendance)) == 0
    assert past.sequence == 2


def test_previous_readings_and_suggestions(setup, factory: Factory) -> None:
    _leader, group, past = setup
    material = factory.material(title="Ozymandias", author="Percy Bysshe Shelley", kind="poem")
    past.status = "delivered"
    past.materials = [material]
    db.session.flush()
    assert previous_readings(group.id, [material.id]) == {material.id: [past.start_dt]}
    assert previous_readings(group.id, [material.id], exclude_session_id=past.id) == {}
    assert [m.id for m in suggest_materials("ozy")] == [material.id]
    assert [m.id for m in suggest_materials("percy")] == [material.id]
    assert suggest_materials("%") == []


def test_cancel_and_reschedule_bump_sequence_and_survive_generation(factory: Factory) -> None:
    group = factory.group(first_date=date.today() - timedelta(days=30))
    generate_sessions(group)
    db.session.commit()
    upcoming = db.session.scalars(
        sa.select(ReadingSession)
        .where(ReadingSession.group_id == group.id)
        .order_by(ReadingSession.start_dt)
    ).all()
    first, second, third = upcoming[:3]
    count = len(upcoming)

    cancel_session(first, "Bank holiday", expected_version=first.version)
    assert (first.status, first.sequence, first.touched) == ("cancelled", 1, True)

    old_start = second.start_dt
    local = to_local(old_start, second.tz_name)
    reschedule_session(second, local.date() + timedelta(days=1), time(14, 0), 60)
    assert second.rescheduled_from_dt == old_start
    assert second.sequence == 1
    assert to_local(second.start_dt, second.tz_name).hour == 14
    second_id = second.id
    db.session.commit()

    generate_sessions(group)
    db.session.commit()
    after = db.session.scalars(
        sa.select(ReadingSession).where(ReadingSession.group_id == group.id)
    ).all()
    assert len(after) == count
    moved = db.session.get(ReadingSession, second_id)
    assert moved.start_dt != old_start and moved.sequence == 1
    assert db.session.get(ReadingSession, first.id).status == "cancelled"

    with pytest.raises(SessionError) as excinfo:
        local_third = to_local(third.start_dt, third.tz_name)
        reschedule_session(first, local_third.date(), local_third.time(), 90)
    assert "already has a session" in excinfo.value.message


def test_cancel_needs_a_reason(factory: Factory) -> None:
    s = factory.session()
    with pytest.raises(SessionError):
        cancel_session(s, "   ")


def test_a_one_off_session_racing_another_for_its_start_is_refused_as_a_clash(
    setup, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readerapp.sessions import operations

    _leader, group, past = setup
    local = to_local(past.start_dt, group.tz_name)
    real_check = operations._check_free
    calls = []

    def check_too_late(*args: object) -> None:
        # The first check runs before the rival's row exists; the database still decides.
        calls.append(args)
        if len(calls) > 1:
            real_check(*args)

    monkeypatch.setattr(operations, "_check_free", check_too_late)
    with pytest.raises(SessionError) as refused:
        operations.add_session(group, local.date(), local.time().replace(tzinfo=None))
    assert refused.value.conflict and refused.value.field == "date"
    # The transaction is still usable: only the savepoint was rolled back.
    added = operations.add_session(group, local.date() + timedelta(days=1), time(9, 0))
    db.session.commit()
    assert added.id is not None and added.occurrence_dt is None
