"""Each job's effect under a controlled clock, and that running it again changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from readerapp.extensions import db
from readerapp.models import Broadcast, OutboxMessage, ReadingSession
from readerapp.radio.operations import cancel_broadcast, move_broadcast
from readerapp.scheduler import jobs
from readerapp.scheduler.reconcile import reconcile_if_changed, reconcile_jobs
from readerapp.timeutil import to_local

from .factories import Factory
from .radio_support import shared_reading_series
from .world import SECRET_NAME, SECRET_NOTE, build_world

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)


def _outbox() -> list[OutboxMessage]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def test_broadcast_reminder_goes_once_from_48_hours_before(factory: Factory) -> None:
    series = shared_reading_series(factory)
    b = factory.broadcast(series.episodes[0], air_dt=NOW + timedelta(hours=50))
    db.session.commit()
    assert jobs.broadcast_reminder(b.id, now=NOW) is False  # too early
    assert _outbox() == []
    at = NOW + timedelta(hours=2)
    assert jobs.broadcast_reminder(b.id, now=at) is True
    assert jobs.broadcast_reminder(b.id, now=at + timedelta(minutes=1)) is False
    assert jobs.send_due(now=at + timedelta(minutes=2)).broadcast_reminders == 0
    [message] = _outbox()
    assert message.recipient == "schedule@wavelength.example"
    assert message.status == "queued"  # no MAIL_HOST in tests: it waits in the outbox
    assert "Where We Begin" in message.body
    local = to_local(b.air_dt, "Europe/London")
    assert f"{local:%H:%M}" in message.body
    db.session.refresh(b)
    assert b.reminder_sent_at == at and b.version == 1  # a reminder is not a change


def test_a_moved_broadcast_is_reminded_again_for_its_new_time(factory: Factory) -> None:
    series = shared_reading_series(factory)
    b = factory.broadcast(series.episodes[0], air_dt=NOW + timedelta(hours=40))
    db.session.commit()
    assert jobs.broadcast_reminder(b.id, now=NOW)
    b = db.session.get(Broadcast, b.id)
    new = to_local(NOW + timedelta(hours=44), "Europe/London")
    move_broadcast(b, day=new.date(), at=new.time())
    db.session.commit()
    assert jobs.send_due(now=NOW + timedelta(minutes=5)).broadcast_reminders == 1
    assert [m.dedupe_key for m in _outbox()] == [
        f"broadcast-reminder:{b.id}:0",
        f"broadcast-reminder:{b.id}:1",
    ]


def test_mark_aired_at_the_end_unless_cancelled(factory: Factory) -> None:
    series = shared_reading_series(factory)
    aired = factory.broadcast(series.episodes[0], air_dt=NOW, duration_minutes=60)
    dropped = factory.broadcast(series.episodes[1], air_dt=NOW + timedelta(hours=2))
    cancel_broadcast(dropped, "Pre-empted by news")
    db.session.commit()
    assert jobs.mark_aired(aired.id, now=NOW + timedelta(minutes=59)) is False
    assert jobs.mark_aired(aired.id, now=NOW + timedelta(minutes=60)) is True
    assert jobs.mark_aired(aired.id, now=NOW + timedelta(minutes=61)) is False
    assert jobs.mark_aired(dropped.id, now=NOW + timedelta(days=1)) is False
    db.session.rollback()
    assert db.session.get(Broadcast, aired.id).status == "aired"
    assert db.session.get(Broadcast, aired.id).aired_at == NOW + timedelta(minutes=60)
    assert db.session.get(Broadcast, dropped.id).status == "cancelled"


def test_session_reminder_to_every_leader_24_hours_before(factory: Factory) -> None:
    lead = factory.user(email="lead@example.org", display_name="Lena Lead")
    co = factory.user(email="co@example.org", display_name="Cora Co")
    group = factory.group(leader=lead, name="Willow Readers")
    group.coleaders = [co]
    s = factory.session(group, start_dt=NOW + timedelta(hours=30))
    db.session.commit()
    assert jobs.session_reminder(s.id, now=NOW) is False
    assert jobs.session_reminder(s.id, now=NOW + timedelta(hours=6)) is True
    assert jobs.session_reminder(s.id, now=NOW + timedelta(hours=7)) is False
    messages = _outbox()
    assert sorted(m.recipient for m in messages) == ["co@example.org", "lead@example.org"]
    assert all("Willow Readers" in m.body for m in messages)


def test_nudge_for_sessions_48_hours_without_attendance(factory: Factory) -> None:
    w = build_world(factory)
    logged = factory.session(w.group, start_dt=NOW - timedelta(days=3), status="delivered")
    factory.attendance(logged)
    unlogged = factory.session(w.group, start_dt=NOW - timedelta(days=4))
    recent = factory.session(w.group, start_dt=NOW - timedelta(hours=30))
    db.session.commit()
    # build_world's own sessions are relative to the real clock; only ours are in range here.
    assert jobs.nudge_unlogged(now=NOW) == 1
    assert jobs.nudge_unlogged(now=NOW + timedelta(hours=1)) == 0
    [message] = [m for m in _outbox() if m.kind == "session_nudge"]
    assert message.recipient == w.leader.email
    assert SECRET_NAME not in message.body and SECRET_NOTE not in message.body
    db.session.rollback()
    assert db.session.get(ReadingSession, unlogged.id).nudge_sent_at == NOW
    assert db.session.get(ReadingSession, recent.id).nudge_sent_at is None
    assert db.session.get(ReadingSession, logged.id).nudge_sent_at is None


def test_weekly_digest_once_per_partner_per_week_without_participants(factory: Factory) -> None:
    w = build_world(factory)
    monday = NOW - timedelta(days=NOW.weekday())
    factory.session(w.group, start_dt=monday + timedelta(days=1, hours=10))
    factory.session(w.other_group, start_dt=monday + timedelta(days=2, hours=10))
    db.session.commit()
    assert jobs.weekly_digest(now=NOW) == 2  # the host and the other host
    assert jobs.weekly_digest(now=NOW + timedelta(hours=3)) == 0
    digests = [m for m in _outbox() if m.kind == "weekly_digest"]
    by_recipient = {m.recipient: m.body for m in digests}
    host_body = by_recipient[w.host.contact_email]
    assert "Willow Readers" in host_body and "B Wing Readers" not in host_body
    for body in by_recipient.values():
        assert SECRET_NAME not in body and SECRET_NOTE not in body


def test_extend_sessions_fills_the_horizon(factory: Factory) -> None:
    w = build_world(factory)
    db.session.commit()
    created = jobs.extend_sessions(now=datetime.now(UTC))
    assert created > 0
    assert jobs.extend_sessions(now=datetime.now(UTC)) == 0
    assert w.group.id


def test_catch_up_sweep_sends_each_due_item_once(factory: Factory) -> None:
    series = shared_reading_series(factory)
    ended = [
        factory.broadcast(series.episodes[i], air_dt=NOW - timedelta(hours=5 - i)) for i in range(3)
    ]
    upcoming = factory.broadcast(series.episodes[3], air_dt=NOW + timedelta(hours=20))
    db.session.commit()
    first = jobs.send_due(now=NOW)
    again = jobs.send_due(now=NOW + timedelta(minutes=1))
    assert (first.aired, first.broadcast_reminders) == (3, 1)
    assert (again.aired, again.broadcast_reminders) == (0, 0)
    db.session.rollback()
    assert {db.session.get(Broadcast, b.id).status for b in ended} == {"aired"}
    assert db.session.get(Broadcast, upcoming.id).reminder_sent_at == NOW


@pytest.fixture
def job_scheduler() -> Iterator[BackgroundScheduler]:
    """A paused scheduler on the real job store; its rows are removed afterwards."""
    db.session.commit()
    scheduler = BackgroundScheduler(
        timezone=UTC,
        jobstores={"default": SQLAlchemyJobStore(engine=db.engine, tablename="apscheduler_jobs")},
    )
    scheduler.start(paused=True)
    yield scheduler
    db.session.rollback()  # on SQLite an open test transaction would block the job store
    scheduler.remove_all_jobs()
    scheduler.shutdown(wait=False)


def test_reconcile_builds_retimes_and_removes_jobs_from_the_database(
    factory: Factory, job_scheduler: BackgroundScheduler
) -> None:
    series = shared_reading_series(factory)
    now = datetime.now(UTC).replace(microsecond=0)
    b = factory.broadcast(series.episodes[0], air_dt=now + timedelta(days=3))
    group = factory.group(first_date=date(2030, 1, 1))
    s = factory.session(group, start_dt=now + timedelta(days=2))
    db.session.commit()
    result = reconcile_jobs(job_scheduler, now=now)
    ids = {job.id: job for job in job_scheduler.get_jobs()}
    assert set(ids) == {
        f"broadcast-reminder:{b.id}",
        f"broadcast-aired:{b.id}",
        f"session-reminder:{s.id}",
    }
    assert result.added == 3
    assert ids[f"broadcast-reminder:{b.id}"].next_run_time == b.air_dt - timedelta(hours=48)
    assert (
        ids[f"broadcast-reminder:{b.id}"].func_ref == "readerapp.scheduler.jobs:broadcast_reminder"
    )
    assert ids[f"broadcast-reminder:{b.id}"].args == (b.id,)
    assert str(ids[f"broadcast-reminder:{b.id}"].trigger.run_date.tzinfo) == "UTC"
    # Nothing changed: the cheap check does not reconcile.
    assert reconcile_if_changed(job_scheduler, now=now) is False
    b = db.session.get(Broadcast, b.id)
    later = to_local(b.air_dt + timedelta(hours=5), b.tz_name)
    move_broadcast(b, day=later.date(), at=later.time())
    db.session.delete(db.session.get(ReadingSession, s.id))
    db.session.commit()
    assert reconcile_if_changed(job_scheduler, now=now) is True
    ids = {job.id: job for job in job_scheduler.get_jobs()}
    assert set(ids) == {f"broadcast-reminder:{b.id}", f"broadcast-aired:{b.id}"}
    assert ids[f"broadcast-aired:{b.id}"].next_run_time == b.end_dt
    db.session.rollback()
