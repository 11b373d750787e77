"""Consent and answers: the ledger of what each participant agreed to, and the answer sets
collected under it. Operations flush; the caller commits.

No answer set is saved for a person without their current consent to evaluation; withdrawing
stops any new one, and (as ``OUTCOMES_ON_WITHDRAWAL`` says) takes their past answers out of
reports ("remove") or leaves them in ("keep").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app

from ..attendance.models import Participant
from ..attendance.operations import host_organisation_id
from ..errors import FieldError
from ..extensions import db
from ..groups.models import ReadingGroup
from ..limits import YEARS
from ..sessions.models import ReadingSession
from ..timeutil import to_local, utcnow
from .consent import WORDINGS
from .definitions import MeasureDefinition
from .models import ADMINISTRATION_MODES, CONSENT_PURPOSES, AnswerSet, ConsentRecord, MeasureVersion

MODE_LABELS = {
    "self_paper": "Filled in on paper by the person",
    "self_phone": "Filled in by the person on the leader's phone",
    "read_aloud": "Read aloud by the leader",
}
assert set(MODE_LABELS) == set(ADMINISTRATION_MODES)


class ConsentError(FieldError):
    """A consent entry that cannot be recorded as given; the message says why."""


class AnswersError(FieldError):
    """An answer set that cannot be saved as given; the message says why."""


def _today() -> date:
    return to_local(utcnow()).date()


def _check_day(day: date, field: str, error: type[FieldError]) -> None:
    if day > _today():
        raise error("Give a date that is not in the future.", field)
    if not YEARS.min <= day.year <= YEARS.max:
        raise error(f"Give a date in {YEARS.min}–{YEARS.max}.", field)


def check_answered_on(day: date) -> None:
    """Refuse a date an answer set cannot have (an import checks it beside every other cell)."""
    _check_day(day, "answered_on", AnswersError)


# --- The consent ledger --------------------------------------------------------------------------


def latest_consent(participant_id: int, purpose: str) -> ConsentRecord | None:
    return db.session.scalar(
        sa.select(ConsentRecord)
        .where(ConsentRecord.participant_id == participant_id, ConsentRecord.purpose == purpose)
        .order_by(
            ConsentRecord.on_date.desc(), ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()
        )
        .limit(1)
    )


def consent_in_force(participant_id: int, purpose: str) -> bool:
    latest = latest_consent(participant_id, purpose)
    return latest is not None and latest.given


def consents_in_force(participant_ids: Iterable[int], purpose: str) -> set[int]:
    """Of these participants, those whose latest entry for the purpose gives consent."""
    ids = list(participant_ids)
    if not ids:
        return set()
    ranked = (
        sa.select(
            ConsentRecord.participant_id,
            ConsentRecord.given,
            sa.func.row_number()
            .over(
                partition_by=ConsentRecord.participant_id,
                order_by=(
                    ConsentRecord.on_date.desc(),
                    ConsentRecord.recorded_at.desc(),
                    ConsentRecord.id.desc(),
                ),
            )
            .label("rank"),
        )
        .where(ConsentRecord.participant_id.in_(ids), ConsentRecord.purpose == purpose)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked.c.participant_id).where(ranked.c.rank == 1, ranked.c.given.is_(True))
    )
    return set(rows.scalars())


def record_consent(
    participant: Participant,
    purpose: str,
    given: bool,
    on_date: date,
    recorded_by_id: int | None,
) -> ConsentRecord:
    """Add a ledger entry: consent given (with the current wording's version) or withdrawn."""
    if purpose not in CONSENT_PURPOSES:
        raise ConsentError(f"Choose one of: {', '.join(CONSENT_PURPOSES)}.", "purpose")
    if participant.erased_at is not None:
        raise ConsentError("This participant's data has been erased.")
    _check_day(on_date, "on_date", ConsentError)
    latest = latest_consent(participant.id, purpose)
    if latest is not None and on_date < latest.on_date:
        raise ConsentError(
            f"The ledger already has an entry dated {latest.on_date:%-d %B %Y}: give that date "
            "or a later one.",
            "on_date",
        )
    if latest is not None and latest.given == given:
        state = "given" if given else "withdrawn"
        raise ConsentError(f"Consent is already {state}.", "given", conflict=True)
    if latest is None and not given:
        raise ConsentError("There is no consent to withdraw.", "given", conflict=True)
    entry = ConsentRecord(
        participant_id=participant.id,
        purpose=purpose,
        given=given,
        wording_version=WORDINGS[purpose].version,
        on_date=on_date,
        recorded_by_id=recorded_by_id,
    )
    db.session.add(entry)
    db.session.flush()
    return entry


# --- Answer sets ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerSetData:
    measure_version_id: int
    group: ReadingGroup
    participant: Participant | None  # None: anonymous session feedback
    session: ReadingSession | None
    answered_on: date
    mode: str
    answers: Mapping[str, Any]


def answer_problems(definition: MeasureDefinition, answers: Mapping[str, Any]) -> dict[str, str]:
    """Item key -> what is wrong with its answer (unknown items under their own key)."""
    problems: dict[str, str] = {}
    items = {item.key: item for item in definition.items}
    for key, value in answers.items():
        item = items.get(key)
        if item is None:
            problems[key] = "This measure has no such question."
        elif isinstance(value, bool) or not isinstance(value, int):
            problems[key] = "Choose one of the answers offered."
        elif value not in {o.value for o in item.options}:
            problems[key] = f"Choose an answer from {item.lowest} to {item.highest}."
    return problems


def save_answer_set(data: AnswerSetData, entered_by_id: int | None) -> AnswerSet:
    """Check and store one answer set. Unanswered items are left out: a partial set is stored
    as partial, and scored only where the measure's rules allow."""
    version = db.session.get(MeasureVersion, data.measure_version_id)
    if version is None:
        raise AnswersError("Choose a measure.", "measure_version_id")
    definition = MeasureDefinition.from_json(version.definition)
    use = "participant" if data.participant is not None else "anonymous"
    if use not in definition.uses:
        wanted = "by participant code" if use == "participant" else "anonymously"
        raise AnswersError(f"{definition.name} is not used {wanted}.", "measure_version_id")
    if data.mode not in ADMINISTRATION_MODES:
        raise AnswersError("Say how the questions were answered.", "mode")
    check_answered_on(data.answered_on)
    if data.session is not None:
        if data.session.group_id != data.group.id:
            raise AnswersError("That session belongs to another group.", "session_id")
        if to_local(data.session.start_dt).date() > _today():
            raise AnswersError("That session has not happened yet.", "session_id")
    person = data.participant
    if person is None:
        if data.session is None:
            raise AnswersError("Anonymous feedback belongs to a session: choose one.", "session_id")
    else:
        if person.erased_at is not None:
            raise AnswersError("This participant's data has been erased.", "participant_id")
        if person.organisation_id != host_organisation_id(data.group):
            raise AnswersError("That participant is not known at this group.", "participant_id")
        if not consent_in_force(person.id, "evaluation"):
            raise AnswersError(
                f"{person.code} has not consented to taking part in evaluation: record their "
                "consent first.",
                "participant_id",
            )
    problems = answer_problems(definition, data.answers)
    if problems:
        key, message = next(iter(problems.items()))
        raise AnswersError(message, f"answers.{key}")
    answers = {
        item.key: data.answers[item.key] for item in definition.items if item.key in data.answers
    }
    if not answers:
        raise AnswersError("Give at least one answer.", "answers")
    answer_set = AnswerSet(
        measure_version_id=version.id,
        participant_id=person.id if person is not None else None,
        group_id=data.group.id,
        session_id=data.session.id if data.session is not None else None,
        answered_on=data.answered_on,
        mode=data.mode,
        answers=answers,
        complete=len(answers) == len(definition.items),
        entered_by_id=entered_by_id,
    )
    db.session.add(answer_set)
    db.session.flush()
    return answer_set


def reportable_answer_sets() -> sa.Select:
    """Answer sets that reports may use: anonymous ones, and a person's unless they withdrew
    their consent to evaluation and the charity's policy removes past answers on withdrawal."""
    query = sa.select(AnswerSet)
    if current_app.config["OUTCOMES_ON_WITHDRAWAL"] == "keep":
        return query
    latest = (
        sa.select(ConsentRecord.given)
        .where(
            ConsentRecord.participant_id == AnswerSet.participant_id,
            ConsentRecord.purpose == "evaluation",
        )
        .order_by(
            ConsentRecord.on_date.desc(), ConsentRecord.recorded_at.desc(), ConsentRecord.id.desc()
        )
        .limit(1)
        .correlate(AnswerSet)
        .scalar_subquery()
    )
    return query.where(sa.or_(AnswerSet.participant_id.is_(None), latest.is_(True)))
