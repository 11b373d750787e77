"""The audit page's entries: each action's rows, named and linked, in words.

A page is built in three steps: the rows of the page's actions (``queries``), the names of every
thing they mention, looked up in one query per kind of thing, and the words (``words``).
A thing that still exists links to its page where the viewer's role may open that page; a
deleted one is named from what its own entry recorded, without a link. Participants are never
named: the trail shows their number only, as it never stores their names.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import url_for

from ..access import ADMINS, MAY_LEAD, STAFF, has_role
from ..extensions import db
from ..timeutil import to_local
from .models import AuditEvent
from .queries import ActionRows
from .words import (
    DATETIME_FORMAT,
    NOTHING,
    action_words,
    field_label,
    how_many,
    in_a_sentence,
    kind_of,
    shapes,
    value_words,
)

# The order in which an action's rows are told: what the person set out to do comes first.
HEADLINE_ORDER = (
    "group",
    "organisation",
    "venue",
    "broadcast",
    "user",
    "api_token",
    "feed_token",
    "partnership",
    "session",
    "attendance",
    "participant",
    "participant_attendance",
    "group_excluded_date",
    "export",
)


@dataclass(frozen=True)
class Thing:
    words: str
    url: str | None = None


@dataclass(frozen=True)
class Change:
    label: str
    before: list[Thing]
    after: list[Thing]


@dataclass
class Line:
    """One row of the trail, in words."""

    id: int
    verb: str
    kind: str
    thing: Thing
    changes: list[Change]
    note: str | None = None


@dataclass
class Entry:
    """One action: its headline row, and every row when there are several."""

    at: Any
    actor: str
    ip_address: str | None
    action_id: str | None
    headline: Line
    lines: list[Line]
    total: int
    summary: str


# --- names and links ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    words: str
    endpoint: str
    args: dict[str, Any]
    roles: Collection[str]


Resolver = Callable[[list[str]], dict[str, Named]]


def _ints(ids: Iterable[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit()]


def _when(value: Any) -> str:
    return to_local(value).strftime(DATETIME_FORMAT)


def _groups(ids: list[str]) -> dict[str, Named]:
    from ..groups.models import ReadingGroup

    rows = db.session.execute(
        sa.select(ReadingGroup.id, ReadingGroup.name).where(ReadingGroup.id.in_(_ints(ids)))
    )
    return {str(r.id): Named(r.name, "groups.detail", {"group_id": r.id}, STAFF) for r in rows}


def _sessions(ids: list[str]) -> dict[str, Named]:
    from ..groups.models import ReadingGroup
    from ..sessions.models import ReadingSession

    rows = db.session.execute(
        sa.select(ReadingSession.id, ReadingSession.start_dt, ReadingGroup.name)
        .join(ReadingGroup, ReadingGroup.id == ReadingSession.group_id)
        .where(ReadingSession.id.in_(_ints(ids)))
    )
    return {
        str(r.id): Named(
            f"{r.name}, {_when(r.start_dt)}", "logbook.detail", {"session_id": r.id}, STAFF
        )
        for r in rows
    }


def _organisations(ids: list[str]) -> dict[str, Named]:
    from ..organisations.models import Organisation

    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name).where(Organisation.id.in_(_ints(ids)))
    )
    return {
        str(r.id): Named(r.name, "organisations.detail", {"organisation_id": r.id}, STAFF)
        for r in rows
    }


def _venues(ids: list[str]) -> dict[str, Named]:
    from ..organisations.models import Organisation, Venue

    rows = db.session.execute(
        sa.select(Venue.id, Venue.name, Venue.organisation_id, Organisation.name.label("org"))
        .join(Organisation, Organisation.id == Venue.organisation_id)
        .where(Venue.id.in_(_ints(ids)))
    )
    # A venue is shown on its organisation's page.
    return {
        str(r.id): Named(
            r.name if r.name == r.org else f"{r.name} ({r.org})",
            "organisations.detail",
            {"organisation_id": r.organisation_id},
            STAFF,
        )
        for r in rows
    }


def _users(ids: list[str]) -> dict[str, Named]:
    from ..users.models import User

    rows = db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(_ints(ids))))
    return {
        str(r.id): Named(r.display_name, "users_admin.edit", {"user_id": r.id}, ADMINS)
        for r in rows
    }


def _broadcasts(ids: list[str]) -> dict[str, Named]:
    from ..radio.models import Broadcast, Episode

    rows = db.session.execute(
        sa.select(Broadcast.id, Broadcast.station_id, Broadcast.air_dt, Episode.title)
        .join(Episode, Episode.id == Broadcast.episode_id)
        .where(Broadcast.id.in_(_ints(ids)))
    )
    # Broadcasts are shown in their station's week.
    return {
        str(r.id): Named(
            f"{r.title}, {_when(r.air_dt)}",
            "radio.week",
            {"station_id": r.station_id, "start": to_local(r.air_dt).date().isoformat()},
            STAFF,
        )
        for r in rows
    }


def _materials(ids: list[str]) -> dict[str, Named]:
    from ..sessions.models import ReadingMaterial

    rows = db.session.execute(
        sa.select(ReadingMaterial.id, ReadingMaterial.title, ReadingMaterial.author).where(
            ReadingMaterial.id.in_(_ints(ids))
        )
    )
    return {
        str(r.id): Named(
            f"{r.title} ({r.author})" if r.author else r.title,
            "materials.edit",
            {"material_id": r.id},
            STAFF,
        )
        for r in rows
    }


def _episodes(ids: list[str]) -> dict[str, Named]:
    from ..radio.models import Episode

    rows = db.session.execute(
        sa.select(Episode.id, Episode.title).where(Episode.id.in_(_ints(ids)))
    )
    return {
        str(r.id): Named(r.title, "radio.edit_episode", {"episode_id": r.id}, STAFF) for r in rows
    }


def _participants(ids: list[str]) -> dict[str, Named]:
    from ..attendance.models import Participant

    rows = db.session.scalars(sa.select(Participant.id).where(Participant.id.in_(_ints(ids))))
    # Never a name or a code: the trail holds neither, and its page must not show them.
    return {
        str(i): Named(f"number {i}", "privacy.participant", {"participant_id": i}, MAY_LEAD)
        for i in rows
    }


def _attendance(ids: list[str]) -> dict[str, Named]:
    from ..attendance.models import Attendance

    rows = db.session.execute(
        sa.select(Attendance.id, Attendance.session_id).where(Attendance.id.in_(_ints(ids)))
    )
    by_session = {str(r.session_id): str(r.id) for r in rows}
    sessions = _sessions(list(by_session))
    return {
        by_session[s]: Named(f"at {n.words}", n.endpoint, n.args, n.roles)
        for s, n in sessions.items()
    }


def _register_entries(ids: list[str]) -> dict[str, Named]:
    from ..attendance.models import ParticipantAttendance

    pairs = [tuple(i.split(":")) for i in ids if i.count(":") == 1]
    wanted = [(int(s), int(p)) for s, p in pairs if s.isdigit() and p.isdigit()]
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(ParticipantAttendance.session_id, ParticipantAttendance.participant_id).where(
            sa.tuple_(ParticipantAttendance.session_id, ParticipantAttendance.participant_id).in_(
                wanted
            )
        )
    ).all()
    sessions = _sessions([str(r.session_id) for r in rows])
    result = {}
    for r in rows:
        session = sessions.get(str(r.session_id))
        if session is not None:
            result[f"{r.session_id}:{r.participant_id}"] = Named(
                f"participant number {r.participant_id} at {session.words}",
                session.endpoint,
                session.args,
                session.roles,
            )
    return result


def _partnerships(ids: list[str]) -> dict[str, Named]:
    from ..groups.models import ReadingGroup
    from ..organisations.models import Organisation, Partnership

    rows = db.session.execute(
        sa.select(Partnership.id, Partnership.group_id, Partnership.role)
        .add_columns(Organisation.name.label("org"), ReadingGroup.name.label("group"))
        .join(Organisation, Organisation.id == Partnership.organisation_id)
        .join(ReadingGroup, ReadingGroup.id == Partnership.group_id)
        .where(Partnership.id.in_(_ints(ids)))
    )
    role = kind_of("partnership").choices["role"]
    return {
        str(r.id): Named(
            f"{r.org}, {role.get(r.role, r.role).lower()} of {r.group}",
            "groups.detail",
            {"group_id": r.group_id},
            STAFF,
        )
        for r in rows
    }


def _excluded_dates(ids: list[str]) -> dict[str, Named]:
    from ..groups.models import GroupExcludedDate

    wanted = [i.split(":", 1) for i in ids if ":" in i]
    group_ids = {g for g, _ in wanted if g.isdigit()}
    groups = _groups(sorted(group_ids))
    existing = {
        (str(r.group_id), r.day.isoformat())
        for r in db.session.execute(
            sa.select(GroupExcludedDate.group_id, GroupExcludedDate.day).where(
                GroupExcludedDate.group_id.in_(_ints(group_ids))
            )
        )
    }
    result = {}
    for group_id, day in wanted:
        group = groups.get(group_id)
        if group is not None and (group_id, day) in existing:
            words = f"{group.words}: {value_words('group_excluded_date', 'day', day)}"
            result[f"{group_id}:{day}"] = Named(words, group.endpoint, group.args, group.roles)
    return result


def _api_tokens(ids: list[str]) -> dict[str, Named]:
    from ..users.models import ApiToken, User

    rows = db.session.execute(
        sa.select(ApiToken.id, ApiToken.name, ApiToken.user_id, User.display_name)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.id.in_(_ints(ids)))
    )
    # Tokens are listed on their holder's own account page only: link the holder.
    return {
        str(r.id): Named(
            f"“{r.name}” of {r.display_name}", "users_admin.edit", {"user_id": r.user_id}, ADMINS
        )
        for r in rows
    }


def _feed_tokens(ids: list[str]) -> dict[str, Named]:
    from ..feeds.models import FeedToken

    rows = db.session.execute(
        sa.select(FeedToken.id, FeedToken.label, FeedToken.scope).where(
            FeedToken.id.in_(_ints(ids))
        )
    )
    return {
        str(r.id): Named(r.label or f"{r.scope.capitalize()} feed", "feeds.index", {}, STAFF)
        for r in rows
    }


RESOLVERS: dict[str, Resolver] = {
    "group": _groups,
    "session": _sessions,
    "organisation": _organisations,
    "venue": _venues,
    "user": _users,
    "broadcast": _broadcasts,
    "material": _materials,
    "episode": _episodes,
    "participant": _participants,
    "attendance": _attendance,
    "participant_attendance": _register_entries,
    "partnership": _partnerships,
    "group_excluded_date": _excluded_dates,
    "api_token": _api_tokens,
    "feed_token": _feed_tokens,
}
# Fields that name a thing in its own entry, for naming it once it is deleted.
OWN_NAME_FIELDS = ("name", "title", "label", "day")


def _key(value: Any) -> str:
    """An id as the trail stores it: composite keys as "a:b"."""
    if isinstance(value, list):
        return ":".join(str(v) for v in value)
    return str(value)


class Names:
    """Every thing a page mentions, looked up once per kind."""

    def __init__(self, viewer: Any) -> None:
        self.viewer = viewer
        self.wanted: dict[str, set[str]] = {}
        self.found: dict[tuple[str, str], Named] = {}

    def want(self, entity_type: str, entity_id: Any) -> None:
        if entity_type in RESOLVERS and entity_id is not None:
            self.wanted.setdefault(entity_type, set()).add(_key(entity_id))

    def resolve(self) -> None:
        for entity_type, ids in self.wanted.items():
            for key, named in RESOLVERS[entity_type](sorted(ids)).items():
                self.found[(entity_type, key)] = named

    def thing(self, entity_type: str, entity_id: Any, fallback: str | None = None) -> Thing:
        key = _key(entity_id)
        named = self.found.get((entity_type, key))
        if named is None:
            words = fallback or f"number {key}"
            return Thing(f"{words} (deleted)" if entity_type in RESOLVERS else words)
        url = None
        if has_role(self.viewer, named.roles):
            url = url_for(named.endpoint, **named.args)
        return Thing(named.words, url)


# --- rows and actions in words ------------------------------------------------------------------


def _refs(event: AuditEvent) -> Iterable[tuple[str, Any]]:
    """(entity type, id) of the row and of every id in its changes."""
    yield event.entity_type, event.entity_id
    fields = shapes().get(event.entity_type, {})
    for key, value in (event.changes or {}).items():
        shape = fields.get(key, "")
        if not shape.startswith("ref") or not isinstance(value, list) or len(value) != 2:
            continue
        target = shape.split(":", 1)[1]
        for side in value:
            if shape.startswith("refs:"):
                for item in side or ():
                    yield target, item
            elif side is not None:
                yield target, side


# Rows without a name of their own, described from their recorded values once deleted:
# the fields that name them, in the order they are told.
DESCRIBED_BY = {
    "partnership": ("organisation_id", "role", "group_id"),
    "session": ("group_id", "start_dt"),
    "broadcast": ("episode_id", "air_dt"),
    "attendance": ("session_id",),
    "participant_attendance": ("participant_id", "session_id"),
    "group_excluded_date": ("group_id", "day"),
}


def _own_name(names: Names, event: AuditEvent) -> str | None:
    changes = event.changes or {}
    described = []
    for key in DESCRIBED_BY.get(event.entity_type, ()):
        pair = changes.get(key)
        if isinstance(pair, list) and len(pair) == 2 and None in pair:
            value = pair[0] if pair[0] is not None else pair[1]
            described.append(
                ", ".join(t.words for t in _side(names, event.entity_type, key, value))
            )
    if described:
        return ", ".join(described)
    for key in OWN_NAME_FIELDS:
        pair = changes.get(key)
        if isinstance(pair, list) and len(pair) == 2:
            value = pair[0] if pair[0] is not None else pair[1]
            if isinstance(value, str) and value:
                return value_words(event.entity_type, key, value)
    return None


def _side(names: Names, entity_type: str, key: str, value: Any) -> list[Thing]:
    shape = shapes().get(entity_type, {}).get(key, "")
    if value is None:
        return [Thing(NOTHING)]
    if shape.startswith("refs:") and isinstance(value, list):
        target = shape.split(":", 1)[1]
        return [names.thing(target, item) for item in value] or [Thing("none")]
    if shape.startswith("ref:") and not isinstance(value, list | dict):
        return [names.thing(shape.split(":", 1)[1], value)]
    return [Thing(value_words(entity_type, key, value))]


def _changes(names: Names, event: AuditEvent) -> list[Change]:
    changes = event.changes or {}
    if changes.get("bulk"):
        return []
    result = []
    known = list(kind_of(event.entity_type).fields)
    order = {key: n for n, key in enumerate(known)}
    for key in sorted(changes, key=lambda k: (order.get(k, len(order)), k)):
        value = changes[key]
        label = field_label(event.entity_type, key)
        if isinstance(value, list) and len(value) == 2:
            before, after = value
            # A new row's values, or a deleted row's: one side is worth showing.
            alone = {"create": after, "delete": before}.get(event.action)
            if alone is not None and None in value:
                if key != "id":  # the entry names the row already
                    result.append(Change(label, [], _side(names, event.entity_type, key, alone)))
                continue
            result.append(
                Change(
                    label,
                    _side(names, event.entity_type, key, before),
                    _side(names, event.entity_type, key, after),
                )
            )
        else:
            # Details of an explicit record (an export's filters, the page a name was shown on).
            result.append(Change(label, [], [Thing(value_words(event.entity_type, key, value))]))
    return result


def _note(event: AuditEvent) -> str | None:
    changes = event.changes or {}
    if changes.get("bulk"):
        fields = [field_label(event.entity_type, f) for f in changes.get("fields", [])]
        where = "several at once"
        return f"{where}: {', '.join(fields)}" if fields else where
    return None


def _line(names: Names, event: AuditEvent) -> Line:
    kind = kind_of(event.entity_type)
    if event.entity_id is None:  # about many or none: an export, a retention run
        kind_words, thing = "", Thing(kind.plural)
    else:
        kind_words = in_a_sentence(kind.label)
        thing = names.thing(event.entity_type, event.entity_id, _own_name(names, event))
    return Line(
        id=event.id,
        verb=action_words(event.action),
        kind=kind_words,
        thing=thing,
        changes=_changes(names, event),
        note=_note(event),
    )


def _headline(rows: list[AuditEvent]) -> AuditEvent:
    rank = {t: n for n, t in enumerate(HEADLINE_ORDER)}
    return min(rows, key=lambda e: (rank.get(e.entity_type, len(rank)), e.id))


def _summary(counts: dict[tuple[str, str], int]) -> list[tuple[str, str]]:
    """("Created", "1 group, 12 sessions") per action, in the headline order."""
    rank = {t: n for n, t in enumerate(HEADLINE_ORDER)}
    by_action: dict[str, list[tuple[str, int]]] = {}
    for (action, entity_type), count in counts.items():
        by_action.setdefault(action, []).append((entity_type, count))
    result = []
    verbs = {"create": 0, "update": 1, "delete": 2}
    for action in sorted(by_action, key=lambda a: verbs.get(a, len(verbs))):
        items = sorted(by_action[action], key=lambda item: rank.get(item[0], len(rank)))
        result.append((action_words(action), ", ".join(how_many(n, t) for t, n in items)))
    return result


def entries(actions: list[ActionRows], viewer: Any) -> list[Entry]:
    """The page's actions in words, names looked up once for the whole page."""
    names = Names(viewer)
    for action in actions:
        for event in action.rows:
            for entity_type, entity_id in _refs(event):
                names.want(entity_type, entity_id)
    names.resolve()
    result = []
    for action in actions:
        head = _headline(action.rows)
        lines = [_line(names, e) for e in action.rows] if len(action.rows) > 1 else []
        counts = _summary(action.counts)
        result.append(
            Entry(
                at=action.at,
                actor=head.actor_label,
                ip_address=head.ip_address,
                action_id=action.action_id,
                headline=_line(names, head),
                lines=lines,
                total=action.total,
                summary="; ".join(f"{verb} {what}" for verb, what in counts),
            )
        )
    return result
