"""Writes to groups. Operations flush; the request or job that calls them commits."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from ..access import clearance_refusal, may_lead
from ..errors import FieldError
from ..extensions import db
from ..organisations.models import PARTNERSHIP_ROLES, Organisation, Partnership, Venue
from ..sessions.models import ReadingSession
from ..timeutil import is_valid_zone, to_local, utcnow, zone
from ..users.models import User
from .limits import AUDIENCE_NOTES, CAPACITY, DURATION_MINUTES, EXPECTED_MAX, GROUP_NAME, ROOM
from .models import GROUP_STATUSES, GroupExcludedDate, ReadingGroup
from .patterns import ExclusionError, check_exclusions, check_meets
from .recurrence import (
    ClockChangeError,
    Pattern,
    PatternError,
    check_clock_changes,
    normalise_rule,
    occurrences,
)


def pattern_of(group: ReadingGroup) -> Pattern:
    return Pattern(
        rule=group.rrule,
        start_time=group.start_time,
        duration_minutes=group.duration_minutes,
        tz_name=group.tz_name,
        first_date=group.first_date,
        last_date=group.last_date,
        excluded=frozenset(d.day for d in group.excluded_dates),
    )


@dataclass
class GenerationResult:
    created: int = 0
    removed: int = 0
    updated: int = 0


def generate_sessions(
    group: ReadingGroup,
    *,
    now: datetime | None = None,
    horizon_days: int | None = None,
    since: date | None = None,
) -> GenerationResult:
    """Bring a group's generated sessions in line with its pattern, up to the rolling horizon.

    Idempotent. Only occurrences that start after ``now`` and that nobody has touched are
    created, removed or re-timed; cancelled, rescheduled, logged or edited occurrences survive.
    ``since`` (a local date) lets the demo data fill in the past as well.
    """
    now = now or utcnow()
    horizon_days = horizon_days or current_app.config["SCHEDULE_HORIZON_DAYS"]
    tz = zone(group.tz_name)
    today = to_local(now, tz).date()
    end = today + timedelta(days=horizon_days)
    start = since if since is not None else today
    result = GenerationResult()

    wanted: set[datetime] = set()
    if group.status == "active":
        wanted = {dt for dt in occurrences(pattern_of(group), start, end) if since or dt > now}

    lower = datetime.combine(start, datetime.min.time(), tzinfo=tz)
    existing = db.session.scalars(
        sa.select(ReadingSession).where(
            ReadingSession.group_id == group.id,
            sa.or_(ReadingSession.occurrence_dt >= lower, ReadingSession.start_dt >= lower),
        )
    ).all()
    by_slot = {s.occurrence_dt: s for s in existing if s.occurrence_dt is not None}
    taken_starts = {s.start_dt for s in existing}

    for session in existing:
        if session.occurrence_dt is None or session.touched or session.status != "scheduled":
            continue
        if session.start_dt <= now:
            continue
        if session.occurrence_dt not in wanted:
            db.session.delete(session)
            taken_starts.discard(session.start_dt)
            result.removed += 1
        else:
            changed = False
            if session.duration_minutes != group.duration_minutes:
                session.duration_minutes = group.duration_minutes
                session.sequence += 1  # the end time moved: calendar apps must take the change
                changed = True
            if session.leader_id != group.lead_leader_id:
                # A new lead leader takes over the occurrences nobody has arranged by hand.
                session.leader_id = group.lead_leader_id
                changed = True
            result.updated += changed

    for slot in sorted(wanted - by_slot.keys()):
        if slot in taken_starts:  # a moved occurrence already sits there
            continue
        db.session.add(
            ReadingSession(
                group_id=group.id,
                start_dt=slot,
                occurrence_dt=slot,
                tz_name=group.tz_name,
                duration_minutes=group.duration_minutes,
                leader_id=group.lead_leader_id,
                status="scheduled",
            )
        )
        taken_starts.add(slot)
        result.created += 1
    db.session.flush()
    return result


def generate_all(now: datetime | None = None) -> GenerationResult:
    """Extend every active group's sessions to the horizon (run daily by the scheduler)."""
    total = GenerationResult()
    groups = db.session.scalars(sa.select(ReadingGroup).order_by(ReadingGroup.id)).all()
    for group in groups:
        r = generate_sessions(group, now=now)
        total.created += r.created
        total.removed += r.removed
        total.updated += r.updated
    return total


# --- Creating and editing groups and their partnerships ------------------------------------------


class GroupError(FieldError):
    """A group or partnership cannot be saved as asked; ``field`` names the form field at fault."""


@dataclass
class GroupData:
    """Everything the group form sets. ``rrule`` is already built from the pattern builder."""

    name: str
    venue_id: int
    rrule: str
    start_time: time
    duration_minutes: int
    first_date: date
    tz_name: str = "Europe/London"
    last_date: date | None = None
    excluded: dict[date, str | None] = field(default_factory=dict)
    lead_leader_id: int | None = None
    coleader_ids: list[int] = field(default_factory=list)
    status: str = "active"
    capacity: int | None = None
    audience_notes: str | None = None
    room: str | None = None
    expected_max: int | None = None
    keeps_register: bool = True


@dataclass
class _Checked:
    name: str
    rrule: str
    venue: Venue
    lead: User | None
    coleaders: list[User]
    audience_notes: str | None
    room: str | None


def _leader(user_id: int, field_name: str) -> User:
    user = db.session.get(User, user_id)
    if user is None or not user.active or not may_lead(user):
        raise GroupError("choose an active reader leader, manager or admin", field_name)
    return user


def _check_clearance(
    data: GroupData,
    group: ReadingGroup | None,
    venue: Venue,
    lead: User | None,
    coleaders: list[User],
) -> None:
    """Refuse a leader newly assigned to a group in a regulated setting without a current check
    or the required training, from the day they would start. Leaders already assigned whose
    check lapses are listed for managers (readerapp.workforce), not thrown off the group."""
    if not isinstance(data.tz_name, str) or not is_valid_zone(data.tz_name):
        return  # refused below, on its own field
    today = to_local(utcnow(), data.tz_name).date()
    starts = max(today, data.first_date) if isinstance(data.first_date, date) else today
    kept = group is not None and group.venue_id == venue.id
    for person, field_name in [(lead, "lead_leader_id")] + [(c, "coleader_ids") for c in coleaders]:
        if person is None or (kept and group is not None and group.is_led_by(person)):
            continue
        refusal = clearance_refusal(person, venue.setting_type, starts)
        if refusal:
            raise GroupError(refusal, field_name)


def _check_group(data: GroupData, group: ReadingGroup | None) -> _Checked:
    """Validate every field before anything is written, so a refusal leaves no partial change."""
    name = (data.name or "").strip()
    if not name or len(name) > GROUP_NAME:
        raise GroupError(f"the name must be 1 to {GROUP_NAME} characters", "name")
    clash = sa.select(ReadingGroup.id).where(sa.func.lower(ReadingGroup.name) == name.lower())
    if group is not None:
        clash = clash.where(ReadingGroup.id != group.id)
    if db.session.scalar(clash) is not None:
        raise GroupError(f"there is already a group called {name!r}", "name")
    venue = db.session.get(Venue, data.venue_id) if isinstance(data.venue_id, int) else None
    if venue is None:
        raise GroupError("choose a venue from the list", "venue_id")
    room = (data.room or "").strip() or None
    if room is not None and len(room) > ROOM:
        raise GroupError(f"the room or ward must be at most {ROOM} characters", "room")
    lead = _leader(data.lead_leader_id, "lead_leader_id") if data.lead_leader_id else None
    coleaders = [
        _leader(uid, "coleader_ids")
        for uid in dict.fromkeys(data.coleader_ids)
        if uid != data.lead_leader_id
    ]
    _check_clearance(data, group, venue, lead, coleaders)
    if data.status not in GROUP_STATUSES:
        raise GroupError(f"choose one of {', '.join(GROUP_STATUSES)}", "status")
    if not DURATION_MINUTES.min <= data.duration_minutes <= DURATION_MINUTES.max:
        raise GroupError(
            f"the duration must be {DURATION_MINUTES.min} to {DURATION_MINUTES.max} minutes",
            "duration_minutes",
        )
    if not is_valid_zone(data.tz_name):
        raise GroupError("not a time zone we know, e.g. Europe/London", "tz_name")
    if data.last_date is not None and data.last_date < data.first_date:
        raise GroupError("the last date must be on or after the first date", "last_date")
    if data.capacity is not None and not CAPACITY.min <= data.capacity <= CAPACITY.max:
        raise GroupError(f"the capacity must be {CAPACITY.min} to {CAPACITY.max}", "capacity")
    if data.expected_max is not None and not (
        EXPECTED_MAX.min <= data.expected_max <= EXPECTED_MAX.max
    ):
        raise GroupError(
            f"the usual most must be {EXPECTED_MAX.min} to {EXPECTED_MAX.max}", "expected_max"
        )
    notes = (data.audience_notes or "").strip() or None
    if notes is not None and len(notes) > AUDIENCE_NOTES:
        raise GroupError(f"at most {AUDIENCE_NOTES} characters", "audience_notes")
    try:
        rule = normalise_rule(data.rrule)
        pattern = Pattern(
            rule=rule,
            start_time=data.start_time,
            duration_minutes=data.duration_minutes,
            tz_name=data.tz_name,
            first_date=data.first_date,
            last_date=data.last_date,
            excluded=frozenset(data.excluded),
        )
        check_meets(pattern)
        # Only days newly excluded: one the pattern has since moved away from is harmless, and
        # refusing it would block every later change (an API PATCH carries the old days along).
        already = {row.day for row in group.excluded_dates} if group is not None else set()
        check_exclusions(pattern, set(data.excluded) - already)
        check_clock_changes(pattern, since=to_local(utcnow(), data.tz_name).date())
    except ClockChangeError as exc:
        raise GroupError(str(exc), "start_time") from exc
    except ExclusionError as exc:
        raise GroupError(str(exc), "excluded_dates") from exc
    except PatternError as exc:
        raise GroupError(str(exc), "rrule") from exc
    return _Checked(name, rule, venue, lead, coleaders, notes, room)


def _apply(group: ReadingGroup, data: GroupData, checked: _Checked) -> None:
    group.name = checked.name
    group.venue_id = checked.venue.id
    group.lead_leader_id = checked.lead.id if checked.lead else None
    group.coleaders = checked.coleaders
    group.rrule = checked.rrule
    group.start_time = data.start_time
    group.duration_minutes = data.duration_minutes
    group.tz_name = data.tz_name
    group.first_date = data.first_date
    group.last_date = data.last_date
    group.status = data.status
    group.capacity = data.capacity
    group.expected_max = data.expected_max
    group.keeps_register = data.keeps_register
    group.audience_notes = checked.audience_notes
    group.room = checked.room
    # Diff rather than replace: a removed and re-added day in one flush would clash on the key.
    wanted = dict(data.excluded)
    for row in list(group.excluded_dates):
        if row.day in wanted:
            row.reason = wanted.pop(row.day)
        else:
            group.excluded_dates.remove(row)
    for day, reason in sorted(wanted.items()):
        group.excluded_dates.append(GroupExcludedDate(day=day, reason=reason))


def create_group(data: GroupData, *, now: datetime | None = None) -> ReadingGroup:
    """A new group with its sessions generated up to the horizon.

    The venue's organisation becomes the group's host from its first date, so the group is in
    that organisation's feed and report at once; the partnership can be edited afterwards.
    """
    checked = _check_group(data, None)
    group = ReadingGroup()
    group.excluded_dates = []
    group.coleaders = []
    _apply(group, data, checked)
    db.session.add(group)
    db.session.flush()
    db.session.add(
        Partnership(
            group_id=group.id,
            organisation_id=checked.venue.organisation_id,
            role="host",
            start_date=group.first_date,
        )
    )
    generate_sessions(group, now=now)
    return group


def update_group(
    group: ReadingGroup, data: GroupData, *, now: datetime | None = None
) -> GenerationResult:
    """Change a group; future occurrences nobody touched follow the new pattern and leader."""
    checked = _check_group(data, group)
    _apply(group, data, checked)
    db.session.flush()
    return generate_sessions(group, now=now)


@dataclass
class PartnershipData:
    organisation_id: int
    role: str
    start_date: date
    end_date: date | None = None


def _check_partnership(
    group: ReadingGroup, data: PartnershipData, partnership: Partnership | None
) -> Organisation:
    organisation = (
        db.session.get(Organisation, data.organisation_id)
        if isinstance(data.organisation_id, int)
        else None
    )
    if organisation is None:
        raise GroupError("choose an organisation from the list", "organisation_id")
    if data.role not in PARTNERSHIP_ROLES:
        raise GroupError(f"choose one of {', '.join(PARTNERSHIP_ROLES)}", "role")
    if data.end_date is not None and data.end_date < data.start_date:
        raise GroupError("the end date must be on or after the start date", "end_date")
    clash = sa.select(Partnership.id).where(
        Partnership.group_id == group.id,
        Partnership.organisation_id == organisation.id,
        Partnership.role == data.role,
        Partnership.start_date == data.start_date,
    )
    if partnership is not None:
        clash = clash.where(Partnership.id != partnership.id)
    if db.session.scalar(clash) is not None:
        raise GroupError(
            "this organisation already has that role from that date in this group", "role"
        )
    return organisation


def add_partnership(group: ReadingGroup, data: PartnershipData) -> Partnership:
    organisation = _check_partnership(group, data, None)
    partnership = Partnership(
        group_id=group.id,
        organisation_id=organisation.id,
        role=data.role,
        start_date=data.start_date,
        end_date=data.end_date,
    )
    db.session.add(partnership)
    db.session.flush()
    return partnership


def update_partnership(partnership: Partnership, data: PartnershipData) -> Partnership:
    organisation = _check_partnership(partnership.group, data, partnership)
    partnership.organisation_id = organisation.id
    partnership.role = data.role
    partnership.start_date = data.start_date
    partnership.end_date = data.end_date
    db.session.flush()
    return partnership


def remove_partnership(partnership: Partnership) -> None:
    db.session.delete(partnership)
    db.session.flush()
