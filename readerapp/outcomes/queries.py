"""What the consent and answer pages read: a person's ledger and answer sets, the measures that
can be used, and who at a session may be asked. Callers check access (readerapp.access) first;
answer sets are health data and every display of them is audited by the page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa

from ..attendance.models import Participant, ParticipantAttendance
from ..extensions import db
from ..sessions.models import ReadingSession
from ..users.models import User
from .consent import WORDINGS, ConsentWording
from .definitions import MeasureDefinition
from .models import CONSENT_PURPOSES, AnswerSet, ConsentRecord, Measure, MeasureVersion


@dataclass(frozen=True)
class LedgerEntry:
    on_date: date
    given: bool
    wording_version: str
    recorded_at: datetime
    recorded_by: str | None  # the account's display name; None when it has gone
    id: int  # the entry's row, for the audit trail of who saw it


@dataclass(frozen=True)
class PurposeLedger:
    """One purpose of a person's consent: the wording shown today, the latest entry (their
    current answer) and every entry, newest first."""

    wording: ConsentWording
    history: list[LedgerEntry]

    @property
    def current(self) -> LedgerEntry | None:
        return self.history[0] if self.history else None

    @property
    def in_force(self) -> bool:
        return self.current is not None and self.current.given


def consent_ledger(participant_id: int) -> list[PurposeLedger]:
    """Every purpose, in the ledger's order, with its entries newest first."""
    rows = db.session.execute(
        sa.select(ConsentRecord, User.display_name)
        .outerjoin(User, User.id == ConsentRecord.recorded_by_id)
        .where(ConsentRecord.participant_id == participant_id)
        .order_by(
            ConsentRecord.on_date.desc(), ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()
        )
    ).all()
    entries: dict[str, list[LedgerEntry]] = {purpose: [] for purpose in CONSENT_PURPOSES}
    for record, recorder in rows:
        entries[record.purpose].append(
            LedgerEntry(
                record.on_date,
                record.given,
                record.wording_version,
                record.recorded_at,
                recorder,
                record.id,
            )
        )
    return [PurposeLedger(WORDINGS[purpose], entries[purpose]) for purpose in CONSENT_PURPOSES]


@dataclass(frozen=True)
class ShownAnswerSet:
    """One answer set as a page shows it: each item's label beside the answer given."""

    id: int
    answered_on: date
    measure_name: str
    version: str
    acknowledgement: str
    mode: str
    complete: bool
    answers: list[tuple[str, int | None]]  # (item label, value; None when left blank)


def answer_sets_of(participant_id: int) -> list[ShownAnswerSet]:
    """A person's answer sets, newest first, with the wording of the version they answered."""
    rows = db.session.scalars(
        sa.select(AnswerSet)
        .where(AnswerSet.participant_id == participant_id)
        .order_by(AnswerSet.answered_on.desc(), AnswerSet.id.desc())
    ).all()
    shown = []
    for answer_set in rows:
        definition = MeasureDefinition.from_json(answer_set.measure_version.definition)
        shown.append(
            ShownAnswerSet(
                id=answer_set.id,
                answered_on=answer_set.answered_on,
                measure_name=definition.name,
                version=definition.version,
                acknowledgement=definition.acknowledgement,
                mode=answer_set.mode,
                complete=answer_set.complete,
                answers=[
                    (item.label, answer_set.answers.get(item.key)) for item in definition.items
                ],
            )
        )
    return shown


def count_answer_sets(participant_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AnswerSet)
        .where(AnswerSet.participant_id == participant_id)
    )


def usable_measures(use: str) -> list[tuple[Measure, MeasureVersion]]:
    """Each measure's latest version, where that version may be used so ("participant" or
    "anonymous"), by name."""
    measures = db.session.scalars(sa.select(Measure).order_by(Measure.name)).all()
    usable = []
    for measure in measures:
        if not measure.versions:
            continue
        latest = measure.versions[-1]
        if use in latest.definition.get("uses", ()):
            usable.append((measure, latest))
    return usable


def present_participants(session: ReadingSession) -> list[Participant]:
    """The people ticked present at a session, by code (participant-level data: callers check
    ``sees_participants`` first)."""
    return list(
        db.session.scalars(
            sa.select(Participant)
            .join(ParticipantAttendance, ParticipantAttendance.participant_id == Participant.id)
            .where(ParticipantAttendance.session_id == session.id)
            .order_by(Participant.code)
        )
    )


def anonymous_sheets(session: ReadingSession, measure_version_id: int) -> int:
    """How many anonymous feedback sheets of this version a session has: a count, no answers."""
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AnswerSet)
        .where(
            AnswerSet.session_id == session.id,
            AnswerSet.participant_id.is_(None),
            AnswerSet.measure_version_id == measure_version_id,
        )
    )
