"""Renewal reminders through the scheduler: at 60, 30 and 7 days before a check or course is
due, the person and their manager are emailed through the outbox, once each, in one process or
across two scheduler processes; each reminder is an audited record. Also the daily digest of
lapsed assignments and the retention of check records."""

from __future__ import annotations

import time as clock
from collections.abc import Callable, Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.access import local_today
from readerapp.extensions import db
from readerapp.models import OutboxMessage
from readerapp.scheduler import jobs
from readerapp.workforce.models import CheckRecord, RenewalReminder
from readerapp.workforce.operations import (
    CheckData,
    LeaderRecordData,
    TrainingData,
    add_check,
    add_training,
    save_leader_record,
)

from .audit_support import events
from .factories import Factory
from .test_scheduler_processes import Processes

LONDON = ZoneInfo("Europe/London")
DUE = date(2027, 6, 15)


def at(day: date) -> datetime:
    return datetime.combine(day, time(9, 0), tzinfo=LONDON)


def _people(factory: Factory):
    manager = factory.user("manager", display_name="Mona Manager", email="mona@example.org")
    leader = factory.user("reader_leader", display_name="Lee Leader", email="lee@example.org")
    save_leader_record(leader, LeaderRecordData("volunteer", manager_id=manager.id))
    return leader, manager


def messages() -> list[tuple[str, str]]:
    return [
        (m.recipient, m.subject)
        for m in db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
    ]


def test_each_stage_is_sent_once_to_the_person_and_their_manager(factory: Factory) -> None:
    leader, _manager = _people(factory)
    check = add_check(
        leader, CheckData("enhanced_dbs_barred", "001234567890", date(2024, 6, 15), DUE)
    )
    db.session.commit()
    sent_on: dict[int, int] = {}
    for days_before in (75, 61, 60, 60, 59, 45, 31, 30, 29, 8, 7, 7, 1, 0):
        sent_on[days_before] = sent_on.get(days_before, 0) + jobs.renewal_reminders(
            at(DUE - timedelta(days=days_before))
        )
    assert {d: n for d, n in sent_on.items() if n} == {60: 1, 30: 1, 7: 1}
    stages = db.session.scalars(
        sa.select(RenewalReminder.days_before).order_by(RenewalReminder.id)
    ).all()
    assert stages == [60, 30, 7]
    sent = messages()
    assert len(sent) == 6
    assert [r for r, _ in sent] == ["lee@example.org", "mona@example.org"] * 3
    assert sent[0][1] == "Your enhanced dbs barred is due for renewal on Tuesday 15 June 2027"
    assert sent[1][1].startswith("Lee Leader: enhanced dbs barred due for renewal")
    # Nothing of the certificate leaves in a message.
    bodies = " ".join(db.session.scalars(sa.select(OutboxMessage.body)))
    assert check.certificate_last_digits not in bodies
    # Each reminder is in the audit trail, as the scheduler's.
    audited = events(action="create", entity_type="renewal_reminder")
    assert len(audited) == 3 and {e.actor_label for e in audited} == {"system:scheduler"}


def test_a_stage_missed_while_no_scheduler_ran_is_replaced_by_the_next(factory: Factory) -> None:
    leader, _manager = _people(factory)
    add_training(leader, TrainingData("leader_training", date(2025, 6, 15), DUE))
    db.session.commit()
    assert jobs.renewal_reminders(at(DUE - timedelta(days=20))) == 1
    assert jobs.renewal_reminders(at(DUE - timedelta(days=5))) == 1
    stages = db.session.scalars(sa.select(RenewalReminder.days_before)).all()
    assert sorted(stages) == [7, 30]
    assert all("leader training" in subject for _, subject in messages())


def test_a_renewed_check_is_reminded_afresh(factory: Factory) -> None:
    leader, _manager = _people(factory)
    check = add_check(
        leader, CheckData("enhanced_dbs_barred", "001234567890", date(2024, 6, 15), DUE)
    )
    db.session.commit()
    assert jobs.renewal_reminders(at(DUE - timedelta(days=7))) == 1
    # Its renewal date moved (the update service confirmed it): a new date, new reminders.
    check.renewal_due = DUE + timedelta(days=365)
    db.session.commit()
    assert jobs.renewal_reminders(at(DUE + timedelta(days=365 - 60))) == 1


def test_daily_digest_of_lapsed_assignments_to_managers(app: Flask, factory: Factory) -> None:
    old = app.config["WORKFORCE_REGULATED_SETTINGS"]
    app.config["WORKFORCE_REGULATED_SETTINGS"] = ("prison",)
    try:
        leader, manager = _people(factory)
        prison = factory.organisation(kind="prison")
        factory.group(factory.venue(prison, setting_type="prison"), leader, name="A Wing Readers")
        db.session.commit()
        now = at(local_today())
        assert jobs.lapsed_checks_digest(now) == 1
        assert jobs.lapsed_checks_digest(now) == 0
        body = db.session.scalars(sa.select(OutboxMessage.body)).one()
        assert "Lee Leader, A Wing Readers: missing a current enhanced DBS check" in body
        assert [r for r, _ in messages()] == [manager.email]
    finally:
        app.config["WORKFORCE_REGULATED_SETTINGS"] = old


def test_check_records_are_removed_six_months_after_the_person_left(factory: Factory) -> None:
    leader, _manager = _people(factory)
    stayer = factory.user("reader_leader")
    for person in (leader, stayer):
        add_check(person, CheckData("enhanced_dbs_barred", "001234567890", date(2024, 1, 1), DUE))
    save_leader_record(leader, LeaderRecordData("volunteer", left_on=date(2026, 1, 10)))
    db.session.commit()
    jobs.apply_retention(at(date(2026, 7, 9)))
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckRecord)) == 2
    jobs.apply_retention(at(date(2026, 7, 11)))
    owners = db.session.scalars(sa.select(CheckRecord.user_id)).all()
    assert owners == [stayer.id]
    assert events(action="delete", entity_type="check_record")


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 180) -> None:
    """Until ``condition`` holds: generous, as two processes start on a machine others share
    (how long they take is never asserted)."""
    deadline = clock.monotonic() + seconds
    while clock.monotonic() < deadline:
        db.session.rollback()  # see the processes' commits; hold no lock while waiting
        done = condition()
        db.session.rollback()
        if done:
            return
        clock.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def processes(app: Flask, tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(app, tmp_path)
    yield procs
    procs.stop_all()
    db.session.rollback()
    if sa.inspect(db.engine).has_table("apscheduler_jobs"):
        db.session.execute(sa.text("DELETE FROM apscheduler_jobs"))
        db.session.commit()


def test_reminders_go_out_once_at_60_30_and_7_days_across_two_scheduler_processes(
    factory: Factory, processes: Processes
) -> None:
    leader, _manager = _people(factory)
    today = local_today()
    for days in (60, 30, 7):
        add_check(
            leader,
            CheckData(
                "enhanced_dbs_barred",
                "001234567890",
                today - timedelta(days=1000),
                today + timedelta(days=days),
            ),
        )
    db.session.commit()
    schedulers = [processes.scheduler("a"), processes.scheduler("b")]

    def count(model: type) -> int:
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))

    wait_for(lambda: count(RenewalReminder) == 3 and count(OutboxMessage) == 6, "reminders")
    clock.sleep(3)  # a few more sweeps by both: nothing more may happen
    for process in schedulers:
        process.terminate()
    assert [p.wait(timeout=20) for p in schedulers] == [0, 0]
    db.session.rollback()
    claims = processes.claims()
    reminders = {k: n for k, n in claims.items() if k.startswith("renewal-reminder:")}
    assert len(reminders) == 3 and set(reminders.values()) == {1}, claims
    assert sorted(db.session.scalars(sa.select(RenewalReminder.days_before))) == [7, 30, 60]
    assert count(OutboxMessage) == 6
