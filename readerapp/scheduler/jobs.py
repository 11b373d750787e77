"""The scheduler's job functions. APScheduler stores them as "readerapp.scheduler.jobs:NAME".

Every function takes ids (never ORM objects) and an optional ``now`` (tests pass a fixed
clock). Each claims its work in the database before doing it — an UPDATE … WHERE the work is
still undone, checking the row count, or the outbox's unique dedupe key — and commits once, so a
job that runs twice, late, or in two processes at once still has its effect exactly once.

Messages name groups, venues, stations, episodes and times; never a participant.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, has_app_context

from ..attendance.models import Attendance
from ..audit.trail import acting_as, record
from ..extensions import db
from ..groups.models import ReadingGroup
from ..notifications.models import OutboxMessage
from ..notifications.outbox import deliver_queued, queue_message
from ..organisations.models import Organisation, Partnership
from ..radio.models import Broadcast, Episode
from ..referrals.operations import unhandled_step_ids
from ..sessions.models import ReadingSession
from ..timeutil import local_zone, to_local, utcnow
from ..users.models import User
from .timing import (
    BROADCAST_REMINDER_BEFORE,
    NUDGE_AFTER,
    NUDGE_LOOKBACK,
    SESSION_REMINDER_BEFORE,
)

log = logging.getLogger("readerapp.scheduler")

_app: Flask | None = None


def bind_app(app: Flask) -> None:
    """The scheduler process binds its app once, so jobs in pool threads can push a context."""
    global _app
    _app = app


@contextmanager
def job_context() -> Iterator[None]:
    """An app context for one job; the job's session is committed by the job or rolled back.

    Every change a job makes is audited as the scheduler's.
    """
    with acting_as("system:scheduler"):
        if has_app_context():
            try:
                yield
            except BaseException:
                db.session.rollback()
                raise
            return
        if _app is None:
            raise RuntimeError("readerapp.scheduler.jobs: no app bound (bind_app was not called)")
        with _app.app_context():
            try:
                yield
            except BaseException:
                db.session.rollback()
                raise
            finally:
                db.session.remove()


def claimed(kind: str, key: object) -> None:
    """One log line per claimed piece of work (the multi-process tests count these)."""
    log.info("claimed %s:%s", kind, key)


def _local(dt: datetime, tz_name: str) -> str:
    return f"{to_local(dt, tz_name):%A %-d %B %Y at %H:%M} ({tz_name})"


def _claim_reminder(start: Any, row_id: int, before: timedelta, now: datetime) -> bool:
    """Claim the reminder of a broadcast or session (``start`` is its start column) for this
    call: due from ``before`` its start until it starts, still scheduled, not yet sent and not
    moved since the start was read. False, rolled back, when it is not this call's to send."""
    model = start.class_
    at = db.session.scalar(sa.select(start).where(model.id == row_id))
    if at is None or at - before > now:
        db.session.rollback()
        return False  # gone, or moved later since this job was planned
    result = db.session.execute(
        sa.update(model)
        .where(
            model.id == row_id,
            model.reminder_sent_at.is_(None),
            model.status == "scheduled",
            start == at,
            start > now,
        )
        # A reminder is not a change to the row: feeds must not see one.
        .values(reminder_sent_at=now, updated_at=model.updated_at)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        db.session.rollback()
        return False
    return True


# --- broadcasts ----------------------------------------------------------------------------


def broadcast_reminder(broadcast_id: int, now: datetime | None = None) -> bool:
    """Remind the station contact of a broadcast, once, from 48 h before it until it airs."""
    with job_context():
        now = now or utcnow()
        if not _claim_reminder(Broadcast.air_dt, broadcast_id, BROADCAST_REMINDER_BEFORE, now):
            return False
        b = db.session.get(Broadcast, broadcast_id)
        episode = b.episode
        station = b.station
        materials = "; ".join(str(m) for m in episode.materials) or "—"
        queue_message(
            dedupe_key=f"broadcast-reminder:{b.id}:{b.sequence}",
            kind="broadcast_reminder",
            recipient=station.contact_email,
            subject=f"Reminder: {episode.programme.title} {episode.number} airs "
            f"{to_local(b.air_dt, b.tz_name):%a %-d %b %H:%M}",
            body=(
                f"Hello{' ' + station.contact_name if station.contact_name else ''},\n\n"
                f"{episode.programme.title}, episode {episode.number} “{episode.title}”, is "
                f"scheduled on {station.name} on {_local(b.air_dt, b.tz_name)}, for "
                f"{b.duration_minutes} minutes"
                f"{' (a repeat)' if b.repeat_of_id else ''}.\n\n"
                f"Read in this episode: {materials}\n\n"
                "If this is no longer right, please tell the Shared Reading team.\n"
            ),
        )
        db.session.commit()
        claimed("broadcast-reminder", broadcast_id)
        return True


def mark_aired(broadcast_id: int, now: datetime | None = None) -> bool:
    """At the end of a broadcast, record it as aired, unless it was cancelled or moved."""
    with job_context():
        now = now or utcnow()
        row = db.session.execute(
            sa.select(Broadcast.air_dt, Broadcast.duration_minutes).where(
                Broadcast.id == broadcast_id
            )
        ).first()
        if row is None:
            return False
        end = row.air_dt + timedelta(minutes=row.duration_minutes)
        if end > now:
            db.session.rollback()
            return False
        result = db.session.execute(
            sa.update(Broadcast)
            .where(
                Broadcast.id == broadcast_id,
                Broadcast.status == "scheduled",
                Broadcast.air_dt == row.air_dt,
                Broadcast.duration_minutes == row.duration_minutes,
            )
            .values(status="aired", aired_at=end, updated_at=Broadcast.updated_at)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:
            db.session.rollback()
            return False
        db.session.commit()
        claimed("broadcast-aired", broadcast_id)
        return True


# --- sessions ------------------------------------------------------------------------------


def _leaders(session: ReadingSession) -> list[User]:
    group = session.group
    people = [session.leader or group.lead_leader, *group.coleaders]
    seen: dict[int, User] = {}
    for person in people:
        if person is not None and person.active and person.id not in seen:
            seen[person.id] = person
    return list(seen.values())


def session_reminder(session_id: int, now: datetime | None = None) -> bool:
    """Remind a session's reader leaders, once, from 24 h before it starts."""
    with job_context():
        now = now or utcnow()
        if not _claim_reminder(ReadingSession.start_dt, session_id, SESSION_REMINDER_BEFORE, now):
            return False
        s = db.session.get(ReadingSession, session_id)
        group = s.group
        materials = "; ".join(str(m) for m in s.materials) or "not chosen yet"
        for leader in _leaders(s):
            queue_message(
                dedupe_key=f"session-reminder:{s.id}:{s.sequence}:{leader.id}",
                kind="session_reminder",
                recipient=leader.email,
                subject=f"Reminder: {group.name} on {s.local_start:%a %-d %b %H:%M}",
                body=(
                    f"Hello {leader.first_name},\n\n"
                    f"{group.name} meets at {group.venue.name} on "
                    f"{_local(s.start_dt, s.tz_name)} for {s.duration_minutes} minutes.\n"
                    f"Reading: {materials}\n\n"
                    "Thank you for reading with the group.\n"
                ),
            )
        db.session.commit()
        claimed("session-reminder", session_id)
        return True


def nudge_unlogged(now: datetime | None = None) -> int:
    """Daily: nudge leaders whose sessions ended 48 h ago with no attendance logged."""
    with job_context():
        now = now or utcnow()
        candidates = db.session.scalars(
            sa.select(ReadingSession)
            .outerjoin(Attendance, Attendance.session_id == ReadingSession.id)
            .where(
                ReadingSession.status == "scheduled",
                ReadingSession.nudge_sent_at.is_(None),
                Attendance.id.is_(None),
                ReadingSession.start_dt <= now - NUDGE_AFTER,
                ReadingSession.start_dt >= now - NUDGE_LOOKBACK,
            )
            .order_by(ReadingSession.start_dt)
        ).all()
        by_leader: dict[int, list[ReadingSession]] = defaultdict(list)
        leaders: dict[int, User] = {}
        for s in candidates:
            if s.end_dt + NUDGE_AFTER > now:
                continue
            result = db.session.execute(
                sa.update(ReadingSession)
                .where(ReadingSession.id == s.id, ReadingSession.nudge_sent_at.is_(None))
                .values(nudge_sent_at=now, updated_at=ReadingSession.updated_at)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount != 1:
                continue
            claimed("session-nudge", s.id)
            for leader in _leaders(s):
                leaders[leader.id] = leader
                by_leader[leader.id].append(s)
        for leader_id, sessions in by_leader.items():
            leader = leaders[leader_id]
            lines = "\n".join(
                f"- {s.group.name}, {_local(s.start_dt, s.tz_name)}" for s in sessions
            )
            queue_message(
                dedupe_key=f"session-nudge:{leader_id}:{sessions[0].id}",
                kind="session_nudge",
                recipient=leader.email,
                subject="Attendance not logged yet",
                body=(
                    f"Hello {leader.first_name},\n\n"
                    "These sessions have no attendance logged yet:\n"
                    f"{lines}\n\n"
                    "Please log them (a headcount is enough), or mark them cancelled if they "
                    "did not take place.\n"
                ),
            )
        db.session.commit()
        return sum(len(v) for v in by_leader.values())


# --- partners ------------------------------------------------------------------------------


def _week_start(now: datetime) -> date:
    today = to_local(now).date()
    return today - timedelta(days=today.weekday())


def weekly_digest(now: datetime | None = None) -> int:
    """Weekly: to each partner contact, what is on in the coming week (this Monday to Sunday)."""
    with job_context():
        now = now or utcnow()
        monday = _week_start(now)
        tz = local_zone()
        start = datetime.combine(monday, time.min, tzinfo=tz)
        end = start + timedelta(days=7)
        organisations = db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.contact_email.is_not(None), Organisation.contact_email != "")
            .order_by(Organisation.id)
        ).all()
        written = 0
        for org in organisations:
            lines = _digest_lines(org, start, end, monday)
            if not lines:
                continue
            message = queue_message(
                dedupe_key=f"weekly-digest:{org.id}:{monday.isoformat()}",
                kind="weekly_digest",
                recipient=org.contact_email,
                subject=f"Shared Reading: the week of {monday:%-d %B %Y}",
                body=(
                    f"Hello{' ' + org.contact_name if org.contact_name else ''},\n\n"
                    f"What is planned with {org.name} in the week of {monday:%-d %B %Y}:\n\n"
                    + "\n".join(lines)
                    + "\n"
                ),
            )
            if message is not None:
                claimed("weekly-digest", f"{org.id}:{monday.isoformat()}")
                written += 1
        db.session.commit()
        return written


def _digest_lines(org: Organisation, start: datetime, end: datetime, monday: date) -> list[str]:
    lines: list[str] = []
    if org.is_station:
        broadcasts = db.session.scalars(
            sa.select(Broadcast)
            .join(Episode)
            .where(
                Broadcast.station_id == org.id, Broadcast.air_dt >= start, Broadcast.air_dt < end
            )
            .order_by(Broadcast.air_dt)
        ).all()
        for b in broadcasts:
            state = " — cancelled" if b.status == "cancelled" else ""
            lines.append(
                f"- {_local(b.air_dt, b.tz_name)}: {b.episode.programme.title} "
                f"{b.episode.number}, “{b.episode.title}”{state}"
            )
    sunday = monday + timedelta(days=6)
    group_ids = sa.select(Partnership.group_id).where(
        Partnership.organisation_id == org.id,
        Partnership.start_date <= sunday,
        sa.or_(Partnership.end_date.is_(None), Partnership.end_date >= monday),
    )
    sessions = db.session.scalars(
        sa.select(ReadingSession)
        .join(ReadingGroup)
        .where(
            ReadingSession.group_id.in_(group_ids),
            ReadingSession.start_dt >= start,
            ReadingSession.start_dt < end,
        )
        .order_by(ReadingSession.start_dt)
    ).all()
    for s in sessions:
        state = " — cancelled" if s.status == "cancelled" else ""
        lines.append(f"- {_local(s.start_dt, s.tz_name)}: {s.group.name}{state}")
    return lines


# --- the workforce -------------------------------------------------------------------------


def renewal_reminders(now: datetime | None = None) -> int:
    """Remind people of a check or course due for renewal, and their manager: once at each of
    WORKFORCE_REMINDER_DAYS (60, 30 and 7 days before). The claim is the reminder's row, unique
    per record, renewal date and stage, written with its messages in one transaction; the audit
    trail records it. Runs in every sweep, so a reminder missed while no scheduler ran goes out
    at its next stage (never a stale earlier one)."""
    from ..workforce.models import RenewalReminder
    from ..workforce.operations import due_renewals, manager_of

    with job_context():
        now = now or utcnow()
        won: list[str] = []
        for due in due_renewals(to_local(now).date()):
            key = f"{due.record_kind}:{due.record_id}:{due.due_on.isoformat()}:{due.days_before}"
            try:
                with db.session.begin_nested():
                    db.session.add(
                        RenewalReminder(
                            record_kind=due.record_kind,
                            record_id=due.record_id,
                            user_id=due.person.id,
                            due_on=due.due_on,
                            days_before=due.days_before,
                        )
                    )
            except sa.exc.IntegrityError:
                continue  # another run has it
            when = f"{due.due_on:%A %-d %B %Y}"
            person = due.person
            queue_message(
                dedupe_key=f"renewal-reminder:{key}:{person.id}",
                kind="renewal_reminder",
                recipient=person.email,
                subject=f"Your {due.what} is due for renewal on {when}",
                body=(
                    f"Hello {person.first_name},\n\n"
                    f"Your {due.what} is due for renewal on {when}. Without a current one you "
                    "cannot lead groups in wards, care homes or prisons after that day.\n\n"
                    "Please arrange the renewal with your manager.\n"
                ),
            )
            manager = manager_of(person)
            if manager is not None and manager.id != person.id:
                queue_message(
                    dedupe_key=f"renewal-reminder:{key}:{manager.id}",
                    kind="renewal_reminder",
                    recipient=manager.email,
                    subject=f"{person.display_name}: {due.what} due for renewal on {when}",
                    body=(
                        f"Hello {manager.first_name},\n\n"
                        f"{person.display_name}'s {due.what} is due for renewal on {when}.\n"
                    ),
                )
            won.append(key)
        db.session.commit()
        for key in won:
            claimed("renewal-reminder", key)
        return len(won)


def lapsed_checks_digest(now: datetime | None = None) -> int:
    """Daily: to each manager, the leaders of groups in regulated settings whose check or
    training has lapsed (the list on their dashboard), once a day, none when there are none."""
    from ..workforce.operations import lapsed_assignments

    with job_context():
        now = now or utcnow()
        today = to_local(now).date()
        lapses = lapsed_assignments(today)
        if not lapses:
            db.session.rollback()
            return 0
        lines = "\n".join(
            f"- {lapse.person.display_name}, {lapse.group.name}: missing {' and '.join(lapse.gaps)}"
            for lapse in lapses
        )
        managers = db.session.scalars(
            sa.select(User).where(User.role == "manager", User.active.is_(True)).order_by(User.id)
        ).all()
        written = 0
        for manager in managers:
            message = queue_message(
                dedupe_key=f"lapsed-checks:{manager.id}:{today.isoformat()}",
                kind="lapsed_checks",
                recipient=manager.email,
                subject=f"Leader checks lapsed: {len(lapses)} assignment(s)",
                body=(
                    f"Hello {manager.first_name},\n\n"
                    "These leaders are assigned to groups in regulated settings but are not "
                    f"cleared to lead there today ({today:%-d %B %Y}):\n\n{lines}\n"
                ),
            )
            if message is not None:
                claimed("lapsed-checks", f"{manager.id}:{today.isoformat()}")
                written += 1
        db.session.commit()
        return written


# --- housekeeping --------------------------------------------------------------------------


def extend_sessions(now: datetime | None = None) -> int:
    """Daily: extend every group's generated sessions to the rolling horizon."""
    from ..groups.operations import generate_all

    with job_context():
        result = generate_all(now=now)
        db.session.commit()
        log.info("sessions extended: %s created, %s removed", result.created, result.removed)
        return result.created


def apply_retention(now: datetime | None = None) -> int:
    """Daily: remove display names and notes of people unseen for RETENTION_MONTHS, outcome
    answers and consent entries of those unseen for OUTCOMES_RETENTION_MONTHS, and answers in
    progress on a phone handed over that were left past their 30 minutes. Safeguarding concerns
    have their own period, counted from closure (CONCERN_RETENTION_MONTHS), and are never touched
    by the participants' one."""
    from ..privacy import apply_retention as clear_expired
    from ..safeguarding.operations import apply_concern_retention
    from ..workforce.operations import remove_expired_checks

    with job_context():
        result = clear_expired(now=now)
        # Staff's check records, WORKFORCE_CHECK_RETENTION_MONTHS after the person left.
        checks = remove_expired_checks(to_local(now or utcnow()).date())
        concerns = apply_concern_retention(current_app.config["CONCERN_RETENTION_MONTHS"], now)
        db.session.commit()
        log.info("retention: %s check records of people who left removed", checks)
        log.info(
            "retention: %s participants cleared, outcomes removed for %s, %s hand-overs expired,"
            " %s closed safeguarding concerns deleted",
            result.cleared,
            result.outcomes_people,
            result.hand_overs_expired,
            concerns,
        )
        return result.cleared


def deliver_outbox(now: datetime | None = None) -> int:
    with job_context():
        return deliver_queued(now=now).sent


def referrer_update(step_id: int) -> bool:
    """Tell a referrer, once, that their referral reached a step (first session, regular,
    ended) — only with the person's consent to updates, and only where an address is known.
    Either way the step is handled once and the decision recorded in the audit trail."""
    from ..referrals.operations import claim_step, update_for

    with job_context():
        step = claim_step(step_id)
        if step is None:
            db.session.rollback()
            return False
        update = update_for(step)
        if isinstance(update, str):
            step.outcome = update
        else:
            queue_message(
                dedupe_key=f"referral-step:{step.id}",
                kind="referrer_update",
                recipient=update.recipient,
                subject=update.subject,
                body=update.body,
            )
            step.outcome = "sent"
        record(
            "referrer_update",
            "referral",
            step.referral_id,
            {"step": step.step, "outcome": step.outcome},
        )
        db.session.commit()
        return step.outcome == "sent"


@dataclass
class SweepResult:
    broadcast_reminders: int = 0
    session_reminders: int = 0
    aired: int = 0
    renewal_reminders: int = 0
    referrer_updates: int = 0
    sent: int = 0


def send_due(now: datetime | None = None) -> SweepResult:
    """Everything due and not done yet: the catch-up after downtime, and a safety net.

    Reminders whose time has come (and whose event is still ahead), broadcasts that have
    ended, then the outbox (including messages whose sender died mid-send and whose lease has
    run out). Each piece is claimed on its own, so this may overlap freely with the per-row jobs.
    """
    with job_context():
        # Mail leases run from the moment each message is claimed, not from the sweep's start.
        mail_clock = now
        now = now or utcnow()
        result = SweepResult()
        reminder_ids = db.session.scalars(
            sa.select(Broadcast.id).where(
                Broadcast.status == "scheduled",
                Broadcast.reminder_sent_at.is_(None),
                Broadcast.air_dt > now,
                Broadcast.air_dt <= now + BROADCAST_REMINDER_BEFORE,
            )
        ).all()
        ended_ids = db.session.scalars(
            sa.select(Broadcast.id).where(
                Broadcast.status == "scheduled",
                Broadcast.air_dt <= now,
            )
        ).all()
        session_ids = db.session.scalars(
            sa.select(ReadingSession.id).where(
                ReadingSession.status == "scheduled",
                ReadingSession.reminder_sent_at.is_(None),
                ReadingSession.start_dt > now,
                ReadingSession.start_dt <= now + SESSION_REMINDER_BEFORE,
            )
        ).all()
        step_ids = unhandled_step_ids()
        db.session.rollback()
        result.broadcast_reminders = sum(broadcast_reminder(i, now) for i in reminder_ids)
        result.aired = sum(mark_aired(i, now) for i in ended_ids)
        result.session_reminders = sum(session_reminder(i, now) for i in session_ids)
        result.renewal_reminders = renewal_reminders(now)
        result.referrer_updates = sum(referrer_update(i) for i in step_ids)
        result.sent = deliver_queued(now=mail_clock).sent
        return result


def outbox_counts() -> dict[str, int]:
    """For the command line: how many messages in each state."""
    return dict(
        db.session.execute(
            sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)
        ).all()
    )


def configured_seconds(name: str) -> int:
    return int(current_app.config[name])
