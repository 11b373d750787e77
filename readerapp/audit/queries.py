"""Reading the audit trail: one filtered query shared by the page and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..db import contains_text
from ..extensions import db
from ..timeutil import local_to_utc, local_zone
from .models import AuditEvent

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    entity_type: str | None = None
    entity_id: str | None = None
    action: str | None = None
    action_id: str | None = None
    date_from: date | None = None  # local dates, both inclusive
    date_to: date | None = None

    def apply(self, query: sa.Select) -> sa.Select:
        if self.actor:
            query = query.where(contains_text(self.actor, AuditEvent.actor_label))
        if self.entity_type:
            query = query.where(AuditEvent.entity_type == self.entity_type)
        if self.entity_id:
            query = query.where(AuditEvent.entity_id == self.entity_id)
        if self.action:
            query = query.where(AuditEvent.action == self.action)
        if self.action_id:
            query = query.where(AuditEvent.action_id == self.action_id)
        if self.date_from:
            query = query.where(AuditEvent.at >= _local_midnight(self.date_from))
        if self.date_to:
            query = query.where(AuditEvent.at < _local_midnight(self.date_to + timedelta(days=1)))
        return query


def _local_midnight(day: date) -> datetime:
    return local_to_utc(day, time(), local_zone())


@dataclass
class ActionRows:
    """One action on a page: its rows (up to ``MAX_ROWS``), how many it has in all, and how
    many of each (action, entity type). ``at`` is its newest row's time."""

    key: str
    action_id: str | None
    at: datetime
    rows: list[AuditEvent] = field(default_factory=list)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# Rows read per step while finding a page's actions; rows kept per action for the page.
SCAN_BATCH = 1000
MAX_ROWS = 100


def _row_key(event_id: int, action_id: str | None) -> str:
    """Rows without an action (none since revision 0011) stand alone."""
    return action_id if action_id is not None else f"#{event_id}"


def page_of_actions(flt: AuditFilter, page: int) -> tuple[list[ActionRows], bool]:
    """One page of actions, newest first (by each one's newest row), and whether another follows.

    The matching rows are read newest first along the index on ``at``, in keyset steps, until
    enough distinct actions are seen: no grouping over the whole trail for a page.
    """
    wanted = page * PAGE_SIZE + 1
    seen: dict[str, ActionRows] = {}
    base = flt.apply(sa.select(AuditEvent.id, AuditEvent.at, AuditEvent.action_id))
    after: tuple[datetime, int] | None = None
    while len(seen) < wanted:
        query = base
        if after is not None:
            at, event_id = after
            query = query.where(
                sa.or_(AuditEvent.at < at, sa.and_(AuditEvent.at == at, AuditEvent.id < event_id))
            )
        rows = db.session.execute(
            query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(SCAN_BATCH)
        ).all()
        for row in rows:
            key = _row_key(row.id, row.action_id)
            if key not in seen:
                seen[key] = ActionRows(key, row.action_id, row.at)
                if len(seen) == wanted:
                    break
        if len(rows) < SCAN_BATCH:
            break
        after = (rows[-1].at, rows[-1].id)
    actions = list(seen.values())
    more = len(actions) > page * PAGE_SIZE
    actions = actions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    _fill(flt, actions)
    return actions, more


def _fill(flt: AuditFilter, actions: list[ActionRows]) -> None:
    """Each action's counts and rows, in a few queries for the whole page."""
    by_key = {a.key: a for a in actions}
    ids = [a.action_id for a in actions if a.action_id is not None]
    lone = [int(a.key[1:]) for a in actions if a.action_id is None]
    if ids:
        counted = flt.apply(
            sa.select(
                AuditEvent.action_id, AuditEvent.action, AuditEvent.entity_type, sa.func.count()
            )
        ).where(AuditEvent.action_id.in_(ids))
        for action_id, action, entity_type, count in db.session.execute(
            counted.group_by(AuditEvent.action_id, AuditEvent.action, AuditEvent.entity_type)
        ):
            by_key[action_id].counts[(action, entity_type)] = count
    small = [i for i in ids if by_key[i].total <= MAX_ROWS]
    queries = []
    if small:
        queries.append(flt.apply(sa.select(AuditEvent)).where(AuditEvent.action_id.in_(small)))
    if lone:
        queries.append(sa.select(AuditEvent).where(AuditEvent.id.in_(lone)))
    queries = [q.order_by(AuditEvent.id) for q in queries]
    # An action of thousands of rows (a year of sessions) shows its first rows and its counts.
    queries += [
        flt.apply(sa.select(AuditEvent))
        .where(AuditEvent.action_id == big)
        .order_by(AuditEvent.id)
        .limit(MAX_ROWS)
        for big in ids
        if by_key[big].total > MAX_ROWS
    ]
    for query in queries:
        for event in db.session.scalars(query):
            by_key[_row_key(event.id, event.action_id)].rows.append(event)
    for action in actions:
        if action.action_id is None:
            event = action.rows[0]
            action.counts = {(event.action, event.entity_type): 1}


CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "actor_id",
    "action",
    "entity_type",
    "entity_id",
    "changes",
    "ip_address",
    "action_id",
)


def _safe_cell(value: object) -> str:
    """Text a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def csv_lines(flt: AuditFilter, batch: int = 2000) -> Iterator[str]:
    """The filtered trail as UTF-8 CSV lines (with a BOM, for Excel), oldest first.

    The query is built now, in the view's context; the rows are read later through a
    connection of the generator's own, so the body can be sent from any context.
    """
    columns = (
        AuditEvent.id,
        AuditEvent.at,
        AuditEvent.actor_label,
        AuditEvent.actor_id,
        AuditEvent.action,
        AuditEvent.entity_type,
        AuditEvent.entity_id,
        AuditEvent.changes,
        AuditEvent.ip_address,
        AuditEvent.action_id,
    )
    base = flt.apply(sa.select(*columns))
    engine = db.engine

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        yield "\ufeff" + buffer.getvalue()
        last_id = 0
        with engine.connect() as connection:
            while True:
                # Keyset pages: steady memory however long the trail is.
                query = base.where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
                rows = connection.execute(query).all()
                if not rows:
                    return
                buffer.seek(0)
                buffer.truncate()
                for row in rows:
                    writer.writerow(
                        [
                            row.id,
                            row.at.isoformat(),
                            _safe_cell(row.actor_label),
                            row.actor_id or "",
                            row.action,
                            row.entity_type,
                            _safe_cell(row.entity_id),
                            _safe_cell(
                                json.dumps(row.changes, sort_keys=True) if row.changes else ""
                            ),
                            row.ip_address or "",
                            row.action_id or "",
                        ]
                    )
                last_id = rows[-1].id
                yield buffer.getvalue()

    return lines()
