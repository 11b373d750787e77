"""Changes to leaders' records, and the figures worked out from them: hours from the schedule,
assignments whose check has lapsed, renewals coming due, records past their retention.

Operations validate everything before writing (a refusal leaves nothing half-saved) and never
commit: the request, command or job does. Who may call them is decided in readerapp.access.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from ..access import clearance_gaps, may_lead, regulated_gaps
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..limits import YEARS
from ..organisations.models import Partnership, Venue
from ..sessions.models import ReadingSession
from ..timeutil import local_to_utc, local_zone, to_local
from ..users.models import User
from .limits import ADJUSTED_MINUTES, ADJUSTMENT_REASON
from .models import (
    CHECK_TYPES,
    CURRENT_CHECK_TYPES,
    EMPLOYMENT_TYPES,
    CheckRecord,
    GroupHoursSetting,
    LeaderRecord,
    SessionHoursAdjustment,
    TrainingRecord,
)

# A DBS certificate number is 12 digits; people write it with spaces or dashes.
CERTIFICATE_NUMBER = re.compile(r"^\d{12}$")


class WorkforceError(FieldError):
    """A leader record, check, training record or adjustment cannot be saved as asked."""


def _check_day(value: object, field_name: str, label: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise WorkforceError(f"Enter the {label} as a date.", field_name)
    if not YEARS.min <= value.year <= YEARS.max:
        raise WorkforceError(f"Enter a date between {YEARS.min} and {YEARS.max}.", field_name)
    return value


# --- records -----------------------------------------------------------------------------


@dataclass
class LeaderRecordData:
    employment_type: str
    manager_id: int | None = None
    left_on: date | None = None


def save_leader_record(person: User, data: LeaderRecordData) -> LeaderRecord:
    """Create or change ``person``'s record (employment type, manager, leaving date)."""
    if not may_lead(person):
        raise WorkforceError("Only reader leaders, managers and admins have leader records.")
    if data.employment_type not in EMPLOYMENT_TYPES:
        raise WorkforceError(f"Choose one of {', '.join(EMPLOYMENT_TYPES)}.", "employment_type")
    if data.manager_id is not None:
        manager = (
            db.session.get(User, data.manager_id) if isinstance(data.manager_id, int) else None
        )
        if manager is None or not manager.active or manager.role not in ("manager", "admin"):
            raise WorkforceError("Choose an active manager or admin.", "manager_id")
    if data.left_on is not None:
        _check_day(data.left_on, "left_on", "leaving date")
    record = db.session.get(LeaderRecord, person.id)
    if record is None:
        record = LeaderRecord(user_id=person.id)
        db.session.add(record)
    record.employment_type = data.employment_type
    record.manager_id = data.manager_id
    record.left_on = data.left_on
    db.session.flush()
    return record


@dataclass
class CheckData:
    check_type: str
    certificate_number: str
    issued_on: date
    renewal_due: date
    update_service: bool = False
    update_checked_on: date | None = None


def certificate_last_digits(number: object) -> str:
    """The last four digits of a 12-digit certificate number (spaces and dashes allowed);
    WorkforceError on anything else. The whole number is never stored."""
    digits = re.sub(r"[\s-]", "", number) if isinstance(number, str) else ""
    if not CERTIFICATE_NUMBER.match(digits):
        raise WorkforceError(
            "A DBS certificate number is 12 digits, e.g. 0012 3456 7890.", "certificate_number"
        )
    return digits[-4:]


def _check_values(data: CheckData, kept_digits: str | None = None) -> dict[str, object]:
    """The columns of a check as asked, all validated; WorkforceError names the first fault.
    When correcting a check, ``kept_digits`` stands for a certificate number left empty."""
    if data.check_type not in CHECK_TYPES:
        raise WorkforceError(f"Choose one of {', '.join(CHECK_TYPES)}.", "check_type")
    if kept_digits is not None and data.certificate_number in (None, ""):
        last_digits = kept_digits
    else:
        last_digits = certificate_last_digits(data.certificate_number)
    issued = _check_day(data.issued_on, "issued_on", "issue date")
    due = _check_day(data.renewal_due, "renewal_due", "renewal date")
    if due <= issued:
        raise WorkforceError("The renewal date must be after the issue date.", "renewal_due")
    checked = None
    if data.update_checked_on is not None:
        checked = _check_day(data.update_checked_on, "update_checked_on", "last checked date")
        if not data.update_service:
            raise WorkforceError(
                "A last-checked date needs the update-service subscription.", "update_checked_on"
            )
        if checked < issued:
            raise WorkforceError(
                "The update service cannot be checked before the certificate was issued.",
                "update_checked_on",
            )
    return {
        "check_type": data.check_type,
        "certificate_last_digits": last_digits,
        "issued_on": issued,
        "renewal_due": due,
        "update_service": bool(data.update_service),
        "update_checked_on": checked,
    }


def add_check(person: User, data: CheckData) -> CheckRecord:
    record = CheckRecord(user_id=person.id, **_check_values(data))
    db.session.add(record)
    db.session.flush()
    return record


def check_data(record: CheckRecord) -> CheckData:
    """A check as it stands, to correct: the certificate number empty (kept unless given)."""
    return CheckData(
        record.check_type,
        "",
        record.issued_on,
        record.renewal_due,
        record.update_service,
        record.update_checked_on,
    )


def update_check(record: CheckRecord, data: CheckData) -> CheckRecord:
    """Correct a check; an empty certificate number keeps the last digits already stored."""
    for column, value in _check_values(data, record.certificate_last_digits).items():
        setattr(record, column, value)
    db.session.flush()
    return record


@dataclass
class TrainingData:
    course: str
    completed_on: date
    expires_on: date | None = None


def _training_values(data: TrainingData) -> dict[str, object]:
    courses = current_app.config["WORKFORCE_COURSES"]
    if data.course not in courses:
        raise WorkforceError(f"Unknown course: choose one of {', '.join(courses)}.", "course")
    completed = _check_day(data.completed_on, "completed_on", "completion date")
    expires = None
    if data.expires_on is not None:
        expires = _check_day(data.expires_on, "expires_on", "expiry date")
        if expires <= completed:
            raise WorkforceError("The expiry must be after the completion date.", "expires_on")
    return {"course": data.course, "completed_on": completed, "expires_on": expires}


def add_training(person: User, data: TrainingData) -> TrainingRecord:
    record = TrainingRecord(user_id=person.id, **_training_values(data))
    db.session.add(record)
    db.session.flush()
    return record


def training_data(record: TrainingRecord) -> TrainingData:
    return TrainingData(record.course, record.completed_on, record.expires_on)


def update_training(record: TrainingRecord, data: TrainingData) -> TrainingRecord:
    for column, value in _training_values(data).items():
        setattr(record, column, value)
    db.session.flush()
    return record


def remove_record(record: CheckRecord | TrainingRecord) -> None:
    db.session.delete(record)
    db.session.flush()


@dataclass
class CheckStatus:
    """Where a person stands today: their current check's renewal date, missing training."""

    person: User
    employment_type: str | None
    check_due: date | None  # the latest renewal date of a current qualifying check
    gaps: list[str]  # what leading in a regulated setting would need today

    @property
    def cleared(self) -> bool:
        return not self.gaps


def check_status(person: User, today: date) -> CheckStatus:
    record = db.session.get(LeaderRecord, person.id)
    due = db.session.scalar(
        sa.select(sa.func.max(CheckRecord.renewal_due)).where(
            CheckRecord.user_id == person.id,
            CheckRecord.check_type.in_(CURRENT_CHECK_TYPES),
            CheckRecord.issued_on <= today,
            CheckRecord.renewal_due >= today,
        )
    )
    gaps = regulated_gaps(person.id, today)
    return CheckStatus(person, record.employment_type if record else None, due, gaps)


def leaders(active_only: bool = True) -> list[User]:
    """Everyone who may lead, by name."""
    query = sa.select(User).where(User.role.in_(("reader_leader", "manager", "admin")))
    if active_only:
        query = query.where(User.active.is_(True))
    return list(db.session.scalars(query.order_by(User.display_name, User.id)))


# --- lapsed assignments --------------------------------------------------------------------


@dataclass
class Lapse:
    group: ReadingGroup
    person: User
    gaps: list[str]


def lapsed_assignments(today: date) -> list[Lapse]:
    """Leaders and co-leaders of active groups in regulated settings who are not cleared
    today: assigned when they were, their check or training has since lapsed."""
    regulated = current_app.config["WORKFORCE_REGULATED_SETTINGS"]
    if not regulated:
        return []
    groups = db.session.scalars(
        sa.select(ReadingGroup)
        .join(Venue)
        .where(ReadingGroup.status == "active", Venue.setting_type.in_(regulated))
        .options(joinedload(ReadingGroup.lead_leader), selectinload(ReadingGroup.coleaders))
        .order_by(ReadingGroup.name)
    ).all()
    lapses: list[Lapse] = []
    for group in groups:
        for person in [group.lead_leader, *group.coleaders]:
            if person is None or not person.active:
                continue
            gaps = clearance_gaps(person.id, group.venue.setting_type, today)
            if gaps:
                lapses.append(Lapse(group, person, gaps))
    return lapses


def session_leader_lapsed(session: ReadingSession) -> bool:
    """A coming session whose leader is not cleared to lead it on its day."""
    leader_id = session.leader_id or session.group.lead_leader_id
    if leader_id is None or session.status != "scheduled":
        return False
    return bool(
        clearance_gaps(leader_id, session.group.venue.setting_type, session.local_start.date())
    )


# --- renewals and retention ------------------------------------------------------------------


@dataclass
class Renewal:
    record_kind: str  # check | training
    record_id: int
    person: User
    what: str
    due_on: date
    days_before: int  # the reminder stage: one of WORKFORCE_REMINDER_DAYS


def due_renewals(today: date) -> list[Renewal]:
    """Checks and courses whose renewal is at most the longest reminder period away, each at
    the stage it has reached: 45 days before is the 60-day reminder, 20 days the 30-day one.
    A stage missed while no scheduler ran is replaced by the next, never sent late."""
    stages = sorted(current_app.config["WORKFORCE_REMINDER_DAYS"])
    if not stages:
        return []
    horizon = today + timedelta(days=stages[-1])

    def stage(due: date) -> int:
        left = (due - today).days
        return next(d for d in stages if left <= d)

    renewals: list[Renewal] = []
    checks = db.session.scalars(
        sa.select(CheckRecord)
        .where(CheckRecord.renewal_due > today, CheckRecord.renewal_due <= horizon)
        .options(joinedload(CheckRecord.user))
        .order_by(CheckRecord.id)
    )
    for check in checks:
        what = check.check_type.replace("_", " ")
        renewals.append(
            Renewal(
                "check", check.id, check.user, what, check.renewal_due, stage(check.renewal_due)
            )
        )
    courses = db.session.scalars(
        sa.select(TrainingRecord)
        .where(TrainingRecord.expires_on > today, TrainingRecord.expires_on <= horizon)
        .options(joinedload(TrainingRecord.user))
        .order_by(TrainingRecord.id)
    )
    for course in courses:
        assert course.expires_on is not None
        what = course.course.replace("_", " ")
        renewals.append(
            Renewal(
                "training",
                course.id,
                course.user,
                what,
                course.expires_on,
                stage(course.expires_on),
            )
        )
    return [r for r in renewals if r.person.active]


def manager_of(person: User) -> User | None:
    record = db.session.get(LeaderRecord, person.id)
    manager = record.manager if record is not None else None
    return manager if manager is not None and manager.active else None


def remove_expired_checks(today: date) -> int:
    """Delete the check records of people who left more than the retention period ago."""
    months = int(current_app.config["WORKFORCE_CHECK_RETENTION_MONTHS"])
    year, month = divmod(today.year * 12 + today.month - 1 - months, 12)
    cutoff = date(year, month + 1, min(today.day, 28))
    gone = sa.select(LeaderRecord.user_id).where(
        LeaderRecord.left_on.is_not(None), LeaderRecord.left_on < cutoff
    )
    records = db.session.scalars(sa.select(CheckRecord).where(CheckRecord.user_id.in_(gone))).all()
    for record in records:
        db.session.delete(record)  # one by one, so the audit trail records each
    db.session.flush()
    return len(records)


# --- hours ---------------------------------------------------------------------------------


@dataclass
class HoursSettingData:
    preparation_minutes: int
    travel_minutes: int


def save_hours_setting(group: ReadingGroup, data: HoursSettingData) -> GroupHoursSetting:
    for name in ("preparation_minutes", "travel_minutes"):
        value = getattr(data, name)
        if isinstance(value, bool) or not isinstance(value, int):
            raise WorkforceError("Enter a whole number of minutes.", name)
        if not ADJUSTED_MINUTES.min <= value <= ADJUSTED_MINUTES.max:
            raise WorkforceError(
                f"Enter {ADJUSTED_MINUTES.min} to {ADJUSTED_MINUTES.max} minutes.", name
            )
    setting = db.session.get(GroupHoursSetting, group.id)
    if setting is None:
        setting = GroupHoursSetting(group_id=group.id)
        db.session.add(setting)
    setting.preparation_minutes = data.preparation_minutes
    setting.travel_minutes = data.travel_minutes
    db.session.flush()
    return setting


def session_people(session: ReadingSession) -> list[User]:
    """Who led or co-led a session: its leader (the group's lead when none is set) and the
    group's co-leaders."""
    people: dict[int, User] = {}
    for person in [session.leader or session.group.lead_leader, *session.group.coleaders]:
        if person is not None:
            people.setdefault(person.id, person)
    return list(people.values())


def adjust_hours(session: ReadingSession, person: User, minutes: object, reason: object) -> None:
    """Credit ``person`` with ``minutes`` for ``session`` instead of the worked-out time."""
    if session.status != "delivered":
        raise WorkforceError("Only a delivered session counts for hours.", "minutes")
    if person.id not in {p.id for p in session_people(session)}:
        raise WorkforceError("Choose someone who led or co-led the session.", "user_id")
    if isinstance(minutes, bool) or not isinstance(minutes, int):
        raise WorkforceError("Enter a whole number of minutes.", "minutes")
    if not ADJUSTED_MINUTES.min <= minutes <= ADJUSTED_MINUTES.max:
        raise WorkforceError(
            f"Enter {ADJUSTED_MINUTES.min} to {ADJUSTED_MINUTES.max} minutes.", "minutes"
        )
    text = reason.strip() if isinstance(reason, str) else ""
    if not text or len(text) > ADJUSTMENT_REASON:
        raise WorkforceError(f"Say why, in at most {ADJUSTMENT_REASON} characters.", "reason")
    row = db.session.get(SessionHoursAdjustment, (session.id, person.id))
    if row is None:
        row = SessionHoursAdjustment(session_id=session.id, user_id=person.id)
        db.session.add(row)
    row.minutes = minutes
    row.reason = text
    db.session.flush()


@dataclass
class HoursLine:
    """One person's time at one delivered session."""

    session: ReadingSession
    person: User
    employment_type: str | None
    minutes: int
    adjusted: bool
    partner_ids: frozenset[int]

    @property
    def volunteer(self) -> bool:
        return self.employment_type == "volunteer"


def hours_lines(
    date_from: date, date_to: date, organisation_id: int | None = None
) -> list[HoursLine]:
    """Every person's time at every delivered session between two local dates (inclusive):
    the session's length plus its group's preparation and travel time (or the settings'
    defaults), or a manager's adjustment. With ``organisation_id``, only sessions of groups
    partnered with it on the session's day."""
    tz = local_zone()
    lo = local_to_utc(date_from, time(0), tz)
    hi = local_to_utc(date_to + timedelta(days=1), time(0), tz)
    sessions = db.session.scalars(
        sa.select(ReadingSession)
        .where(
            ReadingSession.status == "delivered",
            ReadingSession.start_dt >= lo,
            ReadingSession.start_dt < hi,
        )
        .options(
            joinedload(ReadingSession.leader),
            joinedload(ReadingSession.group).joinedload(ReadingGroup.lead_leader),
            joinedload(ReadingSession.group).selectinload(ReadingGroup.coleaders),
        )
        .order_by(ReadingSession.start_dt, ReadingSession.id)
    ).all()
    group_ids = {s.group_id for s in sessions}
    settings = {
        row.group_id: row
        for row in db.session.scalars(
            sa.select(GroupHoursSetting).where(GroupHoursSetting.group_id.in_(group_ids))
        )
    }
    adjustments = {
        (row.session_id, row.user_id): row.minutes
        for row in db.session.scalars(
            sa.select(SessionHoursAdjustment).where(
                SessionHoursAdjustment.session_id.in_([s.id for s in sessions])
            )
        )
    }
    partnerships: dict[int, list[Partnership]] = defaultdict(list)
    for p in db.session.scalars(sa.select(Partnership).where(Partnership.group_id.in_(group_ids))):
        partnerships[p.group_id].append(p)
    employment = dict(
        db.session.execute(sa.select(LeaderRecord.user_id, LeaderRecord.employment_type)).all()
    )
    default_extra = int(current_app.config["WORKFORCE_PREPARATION_MINUTES"]) + int(
        current_app.config["WORKFORCE_TRAVEL_MINUTES"]
    )
    lines: list[HoursLine] = []
    for s in sessions:
        day = to_local(s.start_dt, tz).date()
        partners = frozenset(
            p.organisation_id
            for p in partnerships[s.group_id]
            if p.start_date <= day and (p.end_date is None or p.end_date >= day)
        )
        if organisation_id is not None and organisation_id not in partners:
            continue
        setting = settings.get(s.group_id)
        extra = setting.preparation_minutes + setting.travel_minutes if setting else default_extra
        for person in session_people(s):
            adjusted = adjustments.get((s.id, person.id))
            minutes = adjusted if adjusted is not None else s.duration_minutes + extra
            lines.append(
                HoursLine(
                    s, person, employment.get(person.id), minutes, adjusted is not None, partners
                )
            )
    return lines


@dataclass
class HoursTotal:
    key: object
    name: str
    minutes: int = 0
    volunteer_minutes: int = 0
    sessions: int = 0

    @property
    def hours(self) -> float:
        return round(self.minutes / 60, 2)

    @property
    def volunteer_hours(self) -> float:
        return round(self.volunteer_minutes / 60, 2)

    @property
    def volunteer_value(self) -> float:
        """Volunteer time at the VOLUNTEER_HOURLY_RATE, in pounds (match funding)."""
        rate = float(current_app.config["VOLUNTEER_HOURLY_RATE"])
        return round(self.volunteer_minutes / 60 * rate, 2)


def hours_totals(lines: list[HoursLine], by: str) -> list[HoursTotal]:
    """Totals per ``by``: "person", "group" or "partner" (a session partnered with two
    organisations counts for each; the sum over partners may exceed the whole)."""
    from ..organisations.models import Organisation

    totals: dict[object, HoursTotal] = {}

    def add(key: object, name: str, line: HoursLine) -> None:
        total = totals.setdefault(key, HoursTotal(key, name))
        total.minutes += line.minutes
        total.volunteer_minutes += line.minutes if line.volunteer else 0
        total.sessions += 1

    names: dict[int, str] = {}
    if by == "partner":
        ids = {i for line in lines for i in line.partner_ids}
        names = dict(
            db.session.execute(
                sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids))
            ).all()
        )
    for line in lines:
        if by == "person":
            add(line.person.id, line.person.display_name, line)
        elif by == "group":
            add(line.session.group_id, line.session.group.name, line)
        elif by == "partner":
            for org_id in line.partner_ids:
                add(org_id, names[org_id], line)
        else:
            raise ValueError(f"unknown grouping {by!r}")
    return sorted(totals.values(), key=lambda t: t.name.casefold())


def total_of(lines: list[HoursLine]) -> HoursTotal:
    total = HoursTotal(None, "All")
    for line in lines:
        total.minutes += line.minutes
        total.volunteer_minutes += line.minutes if line.volunteer else 0
        total.sessions += 1
    return total


@dataclass
class LeaderSummary:
    """A person's record as the API and exports give it: never a certificate's digits."""

    user_id: int
    display_name: str
    employment_type: str | None
    manager_id: int | None
    left_on: date | None
    cleared: bool
    check_renewal_due: date | None
    missing: list[str]
    checks: list[CheckRecord]
    training: list[TrainingRecord]


def leader_summary(person: User, today: date) -> LeaderSummary:
    record = db.session.get(LeaderRecord, person.id)
    status = check_status(person, today)
    checks = db.session.scalars(
        sa.select(CheckRecord)
        .where(CheckRecord.user_id == person.id)
        .order_by(CheckRecord.renewal_due.desc(), CheckRecord.id)
    ).all()
    training = db.session.scalars(
        sa.select(TrainingRecord)
        .where(TrainingRecord.user_id == person.id)
        .order_by(TrainingRecord.completed_on.desc(), TrainingRecord.id)
    ).all()
    return LeaderSummary(
        user_id=person.id,
        display_name=person.display_name,
        employment_type=record.employment_type if record else None,
        manager_id=record.manager_id if record else None,
        left_on=record.left_on if record else None,
        cleared=status.cleared,
        check_renewal_due=status.check_due,
        missing=status.gaps,
        checks=list(checks),
        training=list(training),
    )
