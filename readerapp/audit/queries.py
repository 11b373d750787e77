"""Reading the audit trail: one filtered query shared by the page and the CSV export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
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
        if self.date_from:
            query = query.where(AuditEvent.at >= _local_midnight(self.date_from))
        if self.date_to:
            query = query.where(AuditEvent.at < _local_midnight(self.date_to + timedelta(days=1)))
        return query


def _local_midnight(day: date) -> datetime:
    return local_to_utc(day, time(), local_zone())


def page_of_events(flt: AuditFilter, page: int) -> tuple[list[AuditEvent], bool]:
    """One page, newest first, and whether another page follows."""
    query = flt.apply(sa.select(AuditEvent)).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    rows = list(db.session.scalars(query.offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


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
                        ]
                    )
                last_id = rows[-1].id
                yield buffer.getvalue()

    return lines()
