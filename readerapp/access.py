"""Who may see and change what. Views call these after loading and before delegating.

- admin, manager: everything;
- reader_leader: the groups they lead or co-lead (and those groups' sessions);
- partner_viewer: groups partnered with their organisation, read-only, headcounts only, for as
  long as the partnership lasts (one that has ended no longer shows the group, its sessions or
  its feed; the partner's reports and exports still cover the partnership's dates).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort
from flask_login import current_user, login_required

from .groups.models import ReadingGroup, group_coleader
from .organisations.models import Partnership
from .timeutil import to_local, utcnow
from .users.models import User

F = TypeVar("F", bound=Callable[..., Any])


def roles_required(*roles: str) -> Callable[[F], F]:
    """Signed in, and one of ``roles`` (403 otherwise)."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


def managers_only(view: F) -> F:
    return roles_required("admin", "manager")(view)


def admins_only(view: F) -> F:
    return roles_required("admin")(view)


def visible_group_ids(user: User) -> sa.Select | None:
    """A SELECT of the ids of groups ``user`` may see, or None for every group."""
    if user.role in {"admin", "manager"}:
        return None
    if user.role == "reader_leader":
        coled = sa.select(group_coleader.c.group_id).where(group_coleader.c.user_id == user.id)
        return sa.select(ReadingGroup.id).where(
            sa.or_(ReadingGroup.lead_leader_id == user.id, ReadingGroup.id.in_(coled))
        )
    if user.role == "partner_viewer" and user.organisation_id is not None:
        return partnered_group_ids(user.organisation_id)
    return sa.select(ReadingGroup.id).where(sa.false())


def partnership_lasts(today: date | sa.BindParameter | None = None) -> sa.ColumnElement[bool]:
    """The partnership has not ended by ``today`` (a date or a bound parameter; the service's
    local date when left out). It may start later: a partner prepares for a group."""
    today = local_today() if today is None else today
    return sa.or_(Partnership.end_date.is_(None), Partnership.end_date >= today)


def partnered_group_ids(
    organisation_id: Any, today: date | sa.BindParameter | None = None
) -> sa.Select:
    """The groups an organisation partners, in a partnership that has not ended."""
    return sa.select(Partnership.group_id).where(
        Partnership.organisation_id == organisation_id, partnership_lasts(today)
    )


def local_today() -> date:
    return to_local(utcnow()).date()


def restrict_to_visible_groups(query: sa.Select, group_id_column: Any, user: User) -> sa.Select:
    ids = visible_group_ids(user)
    return query if ids is None else query.where(group_id_column.in_(ids))


def can_view_group(user: User, group: ReadingGroup) -> bool:
    if user.role in {"admin", "manager"}:
        return True
    if user.role == "reader_leader":
        return group.is_led_by(user)
    if user.role == "partner_viewer":
        today = local_today()
        return any(
            p.organisation_id == user.organisation_id
            and (p.end_date is None or today <= p.end_date)
            for p in group.partnerships
        )
    return False


def can_edit_group_sessions(user: User, group: ReadingGroup) -> bool:
    """Log and edit sessions: managers, admins and the group's own leaders."""
    return user.role in {"admin", "manager"} or (
        user.role == "reader_leader" and group.is_led_by(user)
    )


def can_manage_groups(user: User) -> bool:
    """Create groups and change their patterns and partnerships."""
    return user.role in {"admin", "manager"}


def sees_participants(user: User) -> bool:
    """Participant-level data (codes, registers) is never shown to partners."""
    return user.role in {"admin", "manager", "reader_leader"}


def require(condition: bool) -> None:
    if not condition:
        abort(403)


def can_see_participant_name(user: User, participant: Any) -> bool:
    """A participant's display name and notes: admins, and the leaders of a group they attended.

    Every display of the name must also be recorded with ``readerapp.audit.record("view_name",
    "participant", participant.id)``.
    """
    if not getattr(user, "is_authenticated", False):
        return False
    if user.role == "admin":
        return True
    if user.role != "reader_leader":
        return False
    from .attendance.models import ParticipantAttendance
    from .extensions import db
    from .sessions.models import ReadingSession

    attended_led_group = (
        sa.select(ParticipantAttendance.session_id)
        .join(ReadingSession, ReadingSession.id == ParticipantAttendance.session_id)
        .where(
            ParticipantAttendance.participant_id == participant.id,
            ReadingSession.group_id.in_(visible_group_ids(user)),
        )
        .limit(1)
    )
    return db.session.scalar(attended_led_group) is not None
