"""Paper questionnaires typed into a spreadsheet: a CSV of one measure's answer sets for one
group, imported all or nothing.

Every row goes through the same checks as an answer set entered on the web (``save_answer_set``:
current consent to evaluation, a code known at the group's host organisation, answers among the
options, a date neither in the future nor outside the years allowed). Each problem is listed at
once with its row and column; any bad row rejects the whole file and the caller rolls back.

A row with the same code, measure version, date and answers as an answer set already stored is
refused as already imported, so a file uploaded twice never doubles anyone's answers.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from ..attendance.models import Participant
from ..attendance.operations import host_organisation_id
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..sessions.models import ReadingSession
from ..timeutil import local_to_utc
from .answers import (
    MODE_LABELS,
    AnswersError,
    AnswerSetData,
    answer_problems,
    check_answered_on,
    consents_in_force,
    save_answer_set,
)
from .definitions import MeasureDefinition
from .models import AnswerSet, Measure, MeasureVersion

REQUIRED_COLUMNS = ("code", "date", "mode")
OPTIONAL_COLUMNS = ("session_date", "version")
MAX_BYTES = 1_000_000
MAX_ROWS = 2000
MAX_CELL = 200
DATE_FORMAT = "%Y-%m-%d"
# The words a spreadsheet may use for how the questions were answered, besides the keys and
# the labels the web form shows.
MODE_WORDS = {
    "on paper by the person": "self_paper",
    "on paper": "self_paper",
    "paper": "self_paper",
    "on the leader's phone": "self_phone",
    "on the leaders phone": "self_phone",
    "phone": "self_phone",
    "read aloud": "read_aloud",
} | {label.lower(): mode for mode, label in MODE_LABELS.items()}
# save_answer_set's input names, as the file's columns spell them.
# The person's refusals name their code: the row says whose it is.
COLUMN_OF_FIELD = {
    "answered_on": "date",
    "mode": "mode",
    "session_id": "session_date",
    "measure_version_id": "version",
}


@dataclass(frozen=True)
class RowError:
    row: int  # as the spreadsheet numbers it: the header is row 1; 0 for the whole file
    column: str | None
    message: str

    def __str__(self) -> str:
        if not self.row:
            return self.message
        where = f"Row {self.row}, {self.column}" if self.column else f"Row {self.row}"
        return f"{where}: {self.message}"


class ImportRejected(FieldError):
    """The file, or at least one row, is wrong: nothing may be imported. ``errors`` lists
    every problem, row by row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("Nothing was imported: correct the rows below and upload again.", "file")
        self.errors = errors


class RowProblems(Exception):
    """Everything wrong with one row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(errors)
        self.errors = errors


def template_header(version: MeasureVersion) -> list[str]:
    """The template's columns for a measure: the fixed ones, then one per item of the version."""
    definition = MeasureDefinition.from_json(version.definition)
    return [*REQUIRED_COLUMNS, "session_date", *(item.key for item in definition.items)]


def parse_mode(text: str) -> str | None:
    """A mode key from its key or its words, ignoring case; None when not recognised."""
    wanted = " ".join(text.strip().lower().replace("’", "'").split())
    if wanted in MODE_LABELS:
        return wanted
    return MODE_WORDS.get(wanted)


def _decode(data: bytes) -> str:
    if len(data) > MAX_BYTES:
        raise ImportRejected(
            [RowError(0, None, f"The file is larger than {MAX_BYTES // 1000} kB.")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            [RowError(0, None, "The file is not a UTF-8 CSV file: save it as “CSV UTF-8”.")]
        ) from exc


def _has_control_character(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def _parse_date(text: str, column: str, errors: list[RowError], row: int) -> date | None:
    try:
        return datetime.strptime(text, DATE_FORMAT).date()
    except ValueError:
        errors.append(RowError(row, column, f"“{text[:20]}” is not a date like 2026-03-31."))
        return None


def _answer(text: str) -> object:
    """A cell's answer: None when blank, a whole number, else the text (refused by the
    measure's own rules, in its own words)."""
    if not text:
        return None
    if text.lstrip("-").isdigit() and len(text) <= 6:
        return int(text)
    return text


@dataclass
class _Context:
    group: ReadingGroup
    measure: Measure
    versions: dict[str, tuple[MeasureVersion, MeasureDefinition]]
    latest: str
    item_columns: set[str]
    participants: dict[str, Participant]
    consenting: set[int]  # participant ids with consent to evaluation in force


def _as_clause(message: str) -> str:
    """A sentence as the rest of "Row 4, item3: …" (a code at its start keeps its capitals)."""
    return message[0].lower() + message[1:] if message[1:2].islower() else message


def _context(group: ReadingGroup, measure: Measure) -> _Context:
    versions = {v.version: (v, MeasureDefinition.from_json(v.definition)) for v in measure.versions}
    item_columns = {item.key for _, d in versions.values() for item in d.items}
    participants = {
        p.code: p
        for p in db.session.scalars(
            sa.select(Participant).where(Participant.organisation_id == host_organisation_id(group))
        )
    }
    consenting = consents_in_force((p.id for p in participants.values()), "evaluation")
    return _Context(
        group,
        measure,
        versions,
        measure.versions[-1].version,
        item_columns,
        participants,
        consenting,
    )


def _read_header(reader: Any, ctx: _Context) -> list[str]:
    try:
        header = [(h or "").strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ImportRejected(
            [RowError(1, None, f"The header row cannot be read ({exc}).")]
        ) from exc
    if not any(header):
        raise ImportRejected([RowError(0, None, "The file is empty.")])
    # Fixed columns in any case; item keys as the measure spells them.
    header = [h.lower() if h.lower() in REQUIRED_COLUMNS + OPTIONAL_COLUMNS else h for h in header]
    known = set(REQUIRED_COLUMNS) | set(OPTIONAL_COLUMNS) | ctx.item_columns
    unknown = [h for h in header if h not in known]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    problems = []
    if unknown:
        problems.append(
            f"column(s) that are not questions of {ctx.measure.name}: "
            + ", ".join(h[:30] or "(blank)" for h in unknown[:5])
        )
    if missing:
        problems.append("missing column(s): " + ", ".join(missing))
    if len(set(header)) != len(header):
        problems.append("a column appears twice")
    if not unknown and not any(h in ctx.item_columns for h in header):
        problems.append("no column for any question")
    if problems:
        raise ImportRejected(
            [
                RowError(
                    1, None, "Header row: " + "; ".join(problems) + ". Use the template's columns."
                )
            ]
        )
    return header


def _session_on(group: ReadingGroup, day: date) -> ReadingSession | str:
    """The group's session that local day, or why there is none to tie the answers to."""
    lower = local_to_utc(day, time(0, 0), group.tz_name)
    upper = local_to_utc(day + timedelta(days=1), time(0, 0), group.tz_name)
    found = list(
        db.session.scalars(
            sa.select(ReadingSession).where(
                ReadingSession.group_id == group.id,
                ReadingSession.start_dt >= lower,
                ReadingSession.start_dt < upper,
                ReadingSession.status != "cancelled",
            )
        )
    )
    if not found:
        return f"the group had no session on {day:%-d %B %Y}."
    if len(found) > 1:
        return f"the group had several sessions on {day:%-d %B %Y}: leave session_date blank."
    return found[0]


def _parse_row(row: int, cells: dict[str, str], ctx: _Context) -> AnswerSetData:
    """The answer set a row describes, or RowProblems listing everything wrong with it."""
    errors: list[RowError] = []
    for column, value in cells.items():
        if len(value) > MAX_CELL:
            errors.append(RowError(row, column, f"longer than {MAX_CELL} characters."))
        elif _has_control_character(value):
            errors.append(RowError(row, column, "remove the control character (a line break?)."))
    if errors:
        raise RowProblems(errors)
    code = cells.get("code", "").upper()
    person = ctx.participants.get(code)
    if not code:
        errors.append(RowError(row, "code", "give the participant's code."))
    elif person is None:
        errors.append(RowError(row, "code", f"{code[:40]} is not known at this group."))
    elif person.id not in ctx.consenting:
        errors.append(
            RowError(row, None, f"{code} has not consented to taking part in evaluation.")
        )
    day = None
    if not cells.get("date"):
        errors.append(RowError(row, "date", "give the date the questions were answered."))
    else:
        day = _parse_date(cells["date"], "date", errors, row)
        if day is not None:
            try:
                check_answered_on(day)
            except AnswersError as error:
                errors.append(RowError(row, "date", _as_clause(error.message)))
    mode = parse_mode(cells.get("mode", ""))
    if mode is None:
        errors.append(
            RowError(row, "mode", "say how: " + ", ".join(MODE_LABELS) + " (or their words).")
        )
    session = None
    if cells.get("session_date"):
        session_day = _parse_date(cells["session_date"], "session_date", errors, row)
        if session_day is not None:
            found = _session_on(ctx.group, session_day)
            if isinstance(found, str):
                errors.append(RowError(row, "session_date", found))
            else:
                session = found
    version_name = cells.get("version") or ctx.latest
    chosen = ctx.versions.get(version_name)
    if chosen is None:
        errors.append(
            RowError(row, "version", f"{ctx.measure.name} has no version “{version_name[:40]}”.")
        )
        raise RowProblems(errors)
    version, definition = chosen
    answers = {
        column: _answer(value)
        for column, value in cells.items()
        if column in ctx.item_columns and value
    }
    for key, message in answer_problems(definition, answers).items():
        errors.append(RowError(row, key, _as_clause(message)))
    if not answers:
        errors.append(RowError(row, None, "give at least one answer."))
    if errors or person is None or day is None or mode is None:
        raise RowProblems(errors)
    return AnswerSetData(
        measure_version_id=version.id,
        group=ctx.group,
        participant=person,
        session=session,
        answered_on=day,
        mode=mode,
        answers=answers,
    )


def _stored_already(data: AnswerSetData) -> bool:
    assert data.participant is not None
    stored = db.session.scalars(
        sa.select(AnswerSet.answers).where(
            AnswerSet.participant_id == data.participant.id,
            AnswerSet.measure_version_id == data.measure_version_id,
            AnswerSet.answered_on == data.answered_on,
        )
    )
    return any(dict(answers) == dict(data.answers) for answers in stored)


def _key(data: AnswerSetData) -> tuple[Any, ...]:
    assert data.participant is not None
    return (
        data.participant.id,
        data.measure_version_id,
        data.answered_on,
        tuple(sorted(data.answers.items())),
    )


def _field_message(error: AnswersError) -> RowError:
    """save_answer_set's refusal, under the column the file spells its input with."""
    field = error.field or ""
    column = field.removeprefix("answers.") if field.startswith("answers.") else None
    column = column or COLUMN_OF_FIELD.get(field)
    return RowError(0, column, _as_clause(error.message))


def _rows(text: str, ctx: _Context) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = _read_header(reader, ctx)
    reader.fieldnames = header
    rows: list[tuple[int, dict[str, str]]] = []
    errors: list[RowError] = []
    while True:
        line = reader.line_num + 1
        try:
            raw = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append(RowError(line, None, f"this line cannot be read as CSV ({exc})."))
            break
        if not any((v or "").strip() for k, v in raw.items() if k is not None):
            continue  # blank lines are harmless
        if len(rows) >= MAX_ROWS:
            raise ImportRejected(
                [RowError(0, None, f"More than {MAX_ROWS:,} rows: split the file in two.")]
            )
        if None in raw:
            errors.append(RowError(line, None, "this row has more cells than the header."))
            continue
        rows.append((line, {k: (v or "").strip() for k, v in raw.items()}))
    if not rows and not errors:
        errors.append(RowError(0, None, "There are no rows to import."))
    return rows, errors


def import_answers(
    group: ReadingGroup, measure: Measure, data: bytes, *, entered_by_id: int | None
) -> int:
    """Import a CSV of ``measure``'s answer sets for ``group``; the number of sets saved.

    Raises ImportRejected listing every problem with its row and column; the caller must then
    roll back, because rows checked before a bad one have been flushed.
    """
    if not measure.versions:
        raise ImportRejected([RowError(0, None, "Choose a measure that is loaded.")])
    ctx = _context(group, measure)
    rows, errors = _rows(_decode(data), ctx)
    seen: dict[tuple[Any, ...], int] = {}
    saved = 0
    for row, cells in rows:
        try:
            answer_set = _parse_row(row, cells, ctx)
        except RowProblems as problems:
            errors.extend(problems.errors)
            continue
        key = _key(answer_set)
        if key in seen:
            errors.append(RowError(row, None, f"the same answers as row {seen[key]}."))
            continue
        seen[key] = row
        if _stored_already(answer_set):
            errors.append(RowError(row, None, "already imported."))
            continue
        savepoint = db.session.begin_nested()
        try:
            save_answer_set(answer_set, entered_by_id)
        except AnswersError as error:
            savepoint.rollback()
            refused = _field_message(error)
            errors.append(RowError(row, refused.column, refused.message))
            continue
        savepoint.commit()
        saved += 1
    if errors:
        raise ImportRejected(sorted(errors, key=lambda e: e.row))
    return saved
