"""Outcomes: the measures (their questions word for word, for those who ask them), a
participant's consent ledger, and answer sets, through the same operations as the pages.

Answers are health data: staff read every group's, a reader leader their own groups'; every read
is recorded in the audit trail. Partners get outcome figures only in aggregate, in the
partnership report, and never a licensed measure's wording.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import abort
from sqlalchemy.orm import selectinload

from ..access import (
    answer_group_ids,
    may_read_answer_sets,
    may_read_measures,
    may_record_answers,
    may_record_consent,
    visible_participant_ids,
)
from ..attendance.models import Participant
from ..audit import recordmany
from ..extensions import db
from ..outcomes.answers import AnswerSetData, record_consent, save_answer_set
from ..outcomes.definitions import KEY_PATTERN, MeasureDefinition
from ..outcomes.models import AnswerSet, ConsentRecord, Measure, MeasureVersion
from ..sessions.models import ReadingSession
from .core import Blueprint, api_user, field_error, forbid, paginate_query
from .schemas.answer_sets import AnswerSetInputSchema, AnswerSetQuerySchema, AnswerSetSchema
from .schemas.consent import ConsentInputSchema, ConsentRecordSchema
from .schemas.measures import MeasureDefinitionSchema, MeasureItemQuerySchema, MeasureSchema
from .visibility import admits, restrict, visible_group_or_404, visible_or_404

measures = Blueprint(
    "api_measures",
    __name__,
    url_prefix="/api/v1/measures",
    description="Outcome measures: questionnaires and their scoring (managers, admins and reader "
    "leaders; a licensed measure's wording is never passed on to partners).",
)
answer_sets = Blueprint(
    "api_answer_sets",
    __name__,
    url_prefix="/api/v1/answer-sets",
    description="Answers to outcome measures (health data: managers, admins and the group's own "
    "leaders; every read is audited). Partners get aggregates only, in the report.",
)
consent = Blueprint(
    "api_consent",
    __name__,
    url_prefix="/api/v1/participants",
    description="A participant's consent ledger, per purpose: no answers without current "
    "consent to evaluation.",
)

NOT_FOR_PARTNERS = "Partners see outcomes in aggregate, in the partnership report."


def _measure_readers_only() -> None:
    if not may_read_measures(api_user()):
        forbid(
            "Only managers, admins and reader leaders read the questionnaires: a licensed "
            "measure's wording is not passed on."
        )


def _answer_readers_only() -> None:
    if not may_read_answer_sets(api_user()):
        forbid(NOT_FOR_PARTNERS)


# --- Measures ------------------------------------------------------------------------------------


@measures.route("")
class Measures(MethodView):
    @measures.etag
    @measures.response(200, MeasureSchema(many=True))
    @measures.paginate()
    def get(self, pagination_parameters: Any) -> list[Measure]:
        """List the measures loaded, each with its versions, oldest first."""
        _measure_readers_only()
        query = (
            sa.select(Measure)
            .options(selectinload(Measure.versions))
            .order_by(Measure.name, Measure.id)
        )
        return paginate_query(query, pagination_parameters)


@measures.route("/<key>")
class MeasureItem(MethodView):
    @measures.etag
    @measures.arguments(MeasureItemQuerySchema, location="query")
    @measures.response(200, MeasureDefinitionSchema)
    def get(self, args: dict[str, Any], key: str) -> dict[str, Any]:
        """One version of a measure, word for word with its acknowledgement: the latest, or the
        one `version` names. Answer it exactly as written."""
        _measure_readers_only()
        # A key that cannot be a measure's is not looked for (nor sent to the database).
        measure = None
        if KEY_PATTERN.match(key):
            measure = db.session.scalar(
                sa.select(Measure).filter_by(key=key).options(selectinload(Measure.versions))
            )
        if measure is None or not measure.versions:
            abort(404, message="There is no such measure.")
        latest = measure.versions[-1]
        chosen = latest
        if "version" in args:
            chosen = next((v for v in measure.versions if v.version == args["version"]), None)
            if chosen is None:
                abort(404, message=f"{measure.name} has no version {args['version']!r}.")
        definition = MeasureDefinition.from_json(chosen.definition)
        return asdict(definition) | {
            "latest_version": latest.version,
            "versions": [v.version for v in measure.versions],
            "builtin": measure.builtin,
        }


# --- Consent -------------------------------------------------------------------------------------


def _consent_of(participant_id: int) -> Participant:
    """A participant whose ledger the caller may read and add to (404 if they cannot see the
    person at all, as for the participant itself)."""
    user = api_user()
    participant = visible_or_404(Participant, participant_id, visible_participant_ids(user))
    if not may_record_consent(user, participant):
        forbid("Only managers, admins and the leaders of this person's groups may do this.")
    return participant


@consent.route("/<int:participant_id>/consent")
class ParticipantConsent(MethodView):
    @consent.etag
    @consent.response(200, ConsentRecordSchema(many=True))
    @consent.paginate()
    def get(self, participant_id: int, pagination_parameters: Any) -> list[ConsentRecord]:
        """The person's consent ledger, oldest first: the latest entry for a purpose is their
        current answer (managers, admins and the leaders of the person's groups). Each entry
        read is recorded in the audit trail (`view_consent`)."""
        participant = _consent_of(participant_id)
        query = (
            sa.select(ConsentRecord)
            .where(ConsentRecord.participant_id == participant.id)
            .order_by(ConsentRecord.on_date, ConsentRecord.recorded_at, ConsentRecord.id)
        )
        entries = paginate_query(query, pagination_parameters)
        # Every entry read is recorded in the audit trail (`view_consent`), as on the page.
        recordmany(
            "view_consent",
            "consent_record",
            [entry.id for entry in entries],
            {"page": "api", "participant_id": participant.id},
        )
        return entries

    @consent.arguments(ConsentInputSchema)
    @consent.response(201, ConsentRecordSchema)
    def post(self, values: dict[str, Any], participant_id: int) -> ConsentRecord:
        """Add an entry: consent given (with the current wording's version) or withdrawn.

        Giving consent already given, or withdrawing what was never given, is a 409; a date
        before the ledger's latest entry for the purpose, or in the future, a 422.
        """
        participant = _consent_of(participant_id)
        entry = record_consent(
            participant, values["purpose"], values["given"], values["on_date"], api_user().id
        )
        db.session.commit()
        return entry


# --- Answer sets ---------------------------------------------------------------------------------


def _answer_sets() -> sa.Select:
    return sa.select(AnswerSet).options(
        selectinload(AnswerSet.measure_version)
        .load_only(MeasureVersion.version, MeasureVersion.measure_id)
        .selectinload(MeasureVersion.measure)
    )


def _measure_version(key: str, version: str | None) -> MeasureVersion:
    measure = db.session.scalar(
        sa.select(Measure).filter_by(key=key).options(selectinload(Measure.versions))
    )
    if measure is None or not measure.versions:
        field_error(422, "measure_key", "There is no measure with this key.")
    if version is None:
        return measure.versions[-1]
    found = next((v for v in measure.versions if v.version == version), None)
    if found is None:
        field_error(422, "version", f"{measure.name} has no version {version!r}.")
    return found


def _participant(participant_id: int | None) -> Participant | None:
    """The person who answered, if one is named: someone the caller may see."""
    if participant_id is None:
        return None
    participant = db.session.get(Participant, participant_id)
    if participant is None or not admits(visible_participant_ids(api_user()), participant_id):
        field_error(422, "participant_id", "There is no such participant, or you may not see them.")
    return participant


def _session(session_id: int | None) -> ReadingSession | None:
    if session_id is None:
        return None
    session = db.session.get(ReadingSession, session_id)
    if session is None:
        field_error(422, "session_id", "There is no such session.")
    return session


@answer_sets.route("")
class AnswerSets(MethodView):
    @answer_sets.etag
    @answer_sets.arguments(AnswerSetQuerySchema, location="query")
    @answer_sets.response(200, AnswerSetSchema(many=True))
    @answer_sets.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[AnswerSet]:
        """List the answer sets of the groups you may read, oldest first: managers and admins
        every group's, a reader leader their own groups'. Each set listed is recorded in the
        audit trail (`view_answers`).

        `date_from` and `date_to` are local dates, both included.
        """
        _answer_readers_only()
        query = _answer_sets().order_by(AnswerSet.answered_on, AnswerSet.id)
        for key in ("group_id", "participant_id"):
            if key in args:
                query = query.where(getattr(AnswerSet, key) == args[key])
        if "measure_key" in args:
            versions = (
                sa.select(MeasureVersion.id)
                .join(Measure, Measure.id == MeasureVersion.measure_id)
                .where(Measure.key == args["measure_key"])
            )
            query = query.where(AnswerSet.measure_version_id.in_(versions))
        if "date_from" in args:
            query = query.where(AnswerSet.answered_on >= args["date_from"])
        if "date_to" in args:
            query = query.where(AnswerSet.answered_on <= args["date_to"])
        query = restrict(query, AnswerSet.group_id, answer_group_ids(api_user()))
        found = paginate_query(query, pagination_parameters)
        recordmany("view_answers", "answer_set", [s.id for s in found], {"page": "api"})
        return found

    @answer_sets.arguments(AnswerSetInputSchema)
    @answer_sets.response(201, AnswerSetSchema)
    def post(self, values: dict[str, Any]) -> AnswerSet:
        """Enter one answer set (the group's leaders, managers and admins).

        A person's answers need their current consent to evaluation (422 on `participant_id`
        without it); anonymous session feedback names a `session_id` and no participant. Items
        left out were not answered: the set is stored as partial. A wrong answer is a 422 on
        `answers.<item key>`, and nothing is saved.
        """
        _answer_readers_only()
        user = api_user()
        group = visible_group_or_404(user, values["group_id"])
        if not may_record_answers(user, group):
            forbid("Only the group's leaders, managers and admins may enter its answers.")
        version = _measure_version(values["measure_key"], values.get("version"))
        data = AnswerSetData(
            measure_version_id=version.id,
            group=group,
            participant=_participant(values.get("participant_id")),
            session=_session(values.get("session_id")),
            answered_on=values["answered_on"],
            mode=values["mode"],
            answers=values["answers"],
        )
        answer_set = save_answer_set(data, user.id)
        db.session.commit()
        return answer_set
