"""Paper registers: a CSV of past sessions' attendance for one group, imported all or nothing.

Each row is matched to the group's session on that local date (and start time, when given).
When the group has no session then, a one-off session is created for the row (prisons and wards
sometimes meet off-pattern). Every row is checked by the same operation the log form uses; any
bad row rejects the whole file and the caller rolls back.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from ..access import is_leader
from ..attendance.operations import (
    HEADCOUNT_FIELDS,
    Headcounts,
    RegisterInput,
    name_participants,
    normalise_code,
    parse_codes,
)
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.errors import SessionError
from ..sessions.models import ReadingSession
from ..sessions.operations import NewMaterial, add_session
from ..timeutil import local_to_utc, to_local, utcnow
from ..users.models import User
from .operations import NeedsConfirmation, SessionLog, log_session

COLUMNS = (
    "date",
    "start_time",
    "status",
    "participants",
    "first_time",
    "staff_carers",
    "volunteers",
    "story_title",
    "story_author",
    "poem_title",
    "poem_author",
    "participant_codes",
    "new_codes",
    "names",
    "cancellation_reason",
    "confirm",
)
CONFIRM_VALUES = ("yes", "y", "true", "1")
REQUIRED_COLUMNS = ("date", "status")
MAX_BYTES = 1_000_000
MAX_ROWS = 1000
MAX_CELL = 1000
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
FIELD_LABELS = {
    "status": "status",
    "cancellation_reason": "cancellation_reason",
    "participants": "participants",
    "first_time": "first_time",
    "staff_carers": "staff_carers",
    "volunteers": "volunteers",
    "materials": "story/poem",
    "register_codes": "participant_codes",
    "new_codes": "new_codes",
    "names": "names",
    "notes": "notes",
    "leader_id": "leader",
    "confirm": "confirm",
}


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


class ImportRejected(FieldError):
    """The file, or at least one row, is wrong: nothing may be imported. ``errors`` lists
    what is wrong where, line by line."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("Nothing was imported: correct the rows below and upload again.", "file")
        self.errors = errors


@dataclass
class ImportResult:
    logged: int = 0
    created: int = 0
    session_ids: list[int] = field(default_factory=list)


@dataclass
class ParsedRow:
    line: int
    day: date
    start: time | None
    entry: SessionLog
    names: dict[str, str] = field(default_factory=dict)  # code -> first name


def template_rows(group: ReadingGroup, now: datetime | None = None) -> list[list[str]]:
    """The header, then the group's past sessions not logged yet (date and time filled in)."""
    now = now or utcnow()
    pending = db.session.scalars(
        sa.select(ReadingSession)
        .where(
            ReadingSession.group_id == group.id,
            ReadingSession.start_dt < now,
            ReadingSession.status == "scheduled",
        )
        .order_by(ReadingSession.start_dt)
        .limit(MAX_ROWS)
    ).all()
    rows = [list(COLUMNS)]
    for s in pending:
        local = to_local(s.start_dt, s.tz_name)
        rows.append([local.strftime("%Y-%m-%d"), local.strftime("%H:%M"), "delivered"])
    return rows


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRejected([RowError(0, f"The file is larger than {MAX_BYTES // 1000} kB.")])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [RowError(0, "The file is not a UTF-8 CSV file: save it as “CSV UTF-8”.")]
        ) from exc


def _parse_date(text: str) -> date:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise SessionError(f"date “{text[:20]}” is not a real date in the form 2026-03-31.", "date")


def _parse_time(text: str) -> time | None:
    if not text:
        return None
    try:
        return datetime.strptime(text, "%H:%M").time()
    except ValueError as exc:
        raise SessionError(f"start_time “{text[:20]}” is not a time like 10:30.", "start") from exc


def _parse_count(row: dict[str, str], name: str) -> int:
    text = row.get(name, "")
    if not text:
        return 0
    if not text.isdigit() or len(text) > 6:
        raise SessionError(f"{name} “{text[:20]}” is not a whole number of 0 or more.", name)
    return int(text)


def _material(row: dict[str, str], prefix: str, kind: str) -> NewMaterial | None:
    title, author = row.get(f"{prefix}_title", ""), row.get(f"{prefix}_author", "")
    if not title and not author:
        return None
    if not title or not author:
        raise SessionError(f"give both {prefix}_title and {prefix}_author.", "materials")
    return NewMaterial(title, author, kind)


def _parse_names(text: str, register: RegisterInput | None) -> dict[str, str]:
    """The optional ``names`` column: "CODE: first name" pairs separated by semicolons, for
    people on the row's register. Where the organisation keeps codes only, any name is refused
    when the row is logged."""
    names: dict[str, str] = {}
    on_register = set(register.codes + register.new_codes) if register else set()
    for pair in filter(None, (p.strip() for p in text.split(";"))):
        raw_code, sep, name = pair.partition(":")
        if not sep or not name.strip():
            raise SessionError("write each as CODE: first name, separated by semicolons.", "names")
        code = normalise_code(raw_code, "names")
        if code not in on_register:
            raise SessionError(f"{code} is not in participant_codes or new_codes.", "names")
        names[code] = name.strip()
    return names


def _parse_row(line: int, raw: dict[str, str | None], today: date) -> ParsedRow:
    row = {k: (v or "").strip() for k, v in raw.items() if k is not None}
    for name, value in row.items():
        if len(value) > MAX_CELL:
            raise SessionError(f"{name} is longer than {MAX_CELL} characters.", name)
    if not row.get("date"):
        raise SessionError("date is missing.", "date")
    day = _parse_date(row["date"])
    if day > today:
        raise SessionError("date is in the future: only past sessions can be imported.", "date")
    start = _parse_time(row.get("start_time", ""))
    status = row.get("status", "").lower()
    if status not in ("delivered", "cancelled"):
        raise SessionError("status must be delivered or cancelled.", "status")
    counts = Headcounts(**{name: _parse_count(row, name) for name in HEADCOUNT_FIELDS})
    materials = [
        m
        for m in (_material(row, "story", "short_story"), _material(row, "poem", "poem"))
        if m is not None
    ]
    register = None
    if status == "delivered":
        codes = parse_codes(row.get("participant_codes"), "register_codes")
        new_codes = parse_codes(row.get("new_codes"), "new_codes")
        if codes or new_codes:
            register = RegisterInput(codes=codes, new_codes=new_codes)
    names = _parse_names(row.get("names", ""), register)
    return ParsedRow(
        line=line,
        day=day,
        start=start,
        entry=SessionLog(
            status=status,
            cancellation_reason=row.get("cancellation_reason") or None,
            headcounts=counts,
            new_materials=materials,
            register=register,
            confirmed=row.get("confirm", "").lower() in CONFIRM_VALUES,
        ),
        names=names,
    )


def _read_rows(text: str, today: date) -> tuple[list[ParsedRow], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportRejected([RowError(1, f"The header row cannot be read ({exc}).")]) from exc
    if not header:
        raise ImportRejected([RowError(1, "The file is empty.")])
    unknown = [h for h in header if h not in COLUMNS]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if unknown or missing or len(set(header)) != len(header):
        problems = []
        if unknown:
            problems.append("unknown column(s): " + ", ".join(h[:30] for h in unknown[:5]))
        if missing:
            problems.append("missing column(s): " + ", ".join(missing))
        if len(set(header)) != len(header):
            problems.append("a column appears twice")
        raise ImportRejected(
            [RowError(1, "Header row: " + "; ".join(problems) + ". Use the template's columns.")]
        )
    reader.fieldnames = header
    parsed: list[ParsedRow] = []
    errors: list[RowError] = []
    count = 0
    while True:
        line = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, f"this line cannot be read as CSV ({exc})."))
            break
        if not any((v or "").strip() for k, v in raw.items() if k is not None):
            continue  # blank lines are harmless
        count += 1
        if count > MAX_ROWS:
            raise ImportRejected([RowError(line, f"More than {MAX_ROWS} rows: split the file.")])
        if None in raw:
            errors.append(RowError(line, "this row has more cells than the header."))
            continue
        try:
            parsed.append(_parse_row(line, raw, today))
        except SessionError as error:
            errors.append(RowError(line, error.message))
    if not parsed and not errors:
        errors.append(RowError(2, "There are no rows to import."))
    return parsed, errors


def _sessions_on(group: ReadingGroup, day: date) -> list[ReadingSession]:
    lower = local_to_utc(day, time(0, 0), group.tz_name)
    upper = local_to_utc(day + timedelta(days=1), time(0, 0), group.tz_name)
    return list(
        db.session.scalars(
            sa.select(ReadingSession)
            .where(
                ReadingSession.group_id == group.id,
                ReadingSession.start_dt >= lower,
                ReadingSession.start_dt < upper,
            )
            .order_by(ReadingSession.start_dt)
        )
    )


def _match(group: ReadingGroup, row: ParsedRow) -> tuple[ReadingSession, bool]:
    """The session a row is about, and whether it had to be created."""
    candidates = _sessions_on(group, row.day)
    if row.start is not None:
        start = local_to_utc(row.day, row.start, group.tz_name)
        found = [s for s in candidates if s.start_dt == start]
    elif len(candidates) > 1:
        times = ", ".join(to_local(s.start_dt, s.tz_name).strftime("%H:%M") for s in candidates)
        raise SessionError(
            f"the group has several sessions that day ({times}): give start_time.", "start"
        )
    else:
        found = candidates
    if found:
        return found[0], False
    return add_session(group, row.day, row.start or group.start_time), True


def _row_message(error: SessionError) -> str:
    label = FIELD_LABELS.get(error.field or "", "")
    return (
        f"{label}: {error.message}"
        if label and not error.message.startswith(label)
        else (error.message)
    )


def import_attendance(
    group: ReadingGroup, data: bytes, *, actor: User, now: datetime | None = None
) -> ImportResult:
    """Import a paper register CSV for ``group``.

    Raises ImportRejected listing every bad row with its line number; the caller must then roll
    back, because rows checked before the bad one have been flushed.
    """
    now = now or utcnow()
    today = to_local(now, group.tz_name).date()
    parsed, errors = _read_rows(_decode(data), today)
    result = ImportResult()
    seen: dict[int, int] = {}
    for row in sorted(parsed, key=lambda r: (r.day, r.start or time(0), r.line)):
        savepoint = db.session.begin_nested()
        try:
            session, created = _match(group, row)
            if session.id in seen:
                raise SessionError(f"the same session as line {seen[session.id]}.", None)
            seen[session.id] = row.line
            if session.status != "scheduled" or session.attendance is not None:
                raise SessionError(
                    "that session is already logged: change it on its page instead.", None
                )
            leader_id = session.leader_id
            if leader_id is None and is_leader(actor):
                leader_id = actor.id
            entry = replace(row.entry, leader_id=leader_id, notes=session.notes)
            log_session(session, entry, expected_version=None, actor=actor, now=now)
            name_participants(group, row.names)
        except NeedsConfirmation as unusual:
            savepoint.rollback()
            errors.append(
                RowError(row.line, f"{unusual.message} If it is, put yes in the confirm column.")
            )
            continue
        except SessionError as error:
            savepoint.rollback()
            errors.append(RowError(row.line, _row_message(error)))
            continue
        savepoint.commit()
        result.logged += 1
        result.created += int(created)
        result.session_ids.append(session.id)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.line))
    db.session.flush()
    return result
