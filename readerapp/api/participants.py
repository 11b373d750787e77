"""Participants: codes for staff and the leaders of their groups (never partners); a first name
and note recorded where the organisation keeps names, shown only on request, audited."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask.views import MethodView

from ..access import (
    can_see_participant_name,
    may_list_participants,
    may_record_participant_name,
    visible_participant_ids,
)
from ..attendance.models import Participant
from ..attendance.operations import NameAndNote, record_name_and_note
from ..audit import record
from ..extensions import db
from .core import Blueprint, api_user, forbid, paginate_query
from .schemas.participants import (
    NAMES_SHOWN,
    ParticipantItemQuerySchema,
    ParticipantQuerySchema,
    ParticipantSchema,
    ParticipantUpdateSchema,
)
from .visibility import restrict, visible_or_404

blp = Blueprint(
    "api_participants",
    __name__,
    url_prefix="/api/v1/participants",
    description="People who attend, by pseudonymous code (never shown to partners).",
)


def _visible(participant_id: int) -> Participant:
    return visible_or_404(Participant, participant_id, visible_participant_ids(api_user()))


@blp.route("")
class Participants(MethodView):
    @blp.etag
    @blp.arguments(ParticipantQuerySchema, location="query")
    @blp.response(200, ParticipantSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Participant]:
        """List the participants of the groups you lead (staff: everyone). Never names."""
        user = api_user()
        if not may_list_participants(user):
            forbid("Participant-level data is not shown to partners.")
        query = sa.select(Participant).order_by(Participant.organisation_id, Participant.code)
        if "organisation_id" in args:
            query = query.where(Participant.organisation_id == args["organisation_id"])
        if args.get("code"):
            prefix = args["code"].strip().upper()
            query = query.where(sa.func.upper(Participant.code).startswith(prefix))
        query = restrict(query, Participant.id, visible_participant_ids(user))
        return paginate_query(query, pagination_parameters)


@blp.route("/<int:participant_id>")
class ParticipantItem(MethodView):
    @blp.etag
    @blp.arguments(ParticipantItemQuerySchema, location="query")
    @blp.response(200, ParticipantSchema)
    def get(self, args: dict[str, Any], participant_id: int) -> Participant:
        """One participant; with show=name, their first name and note if you may see them
        (admins and the leaders of their groups), each showing recorded in the audit trail."""
        participant = _visible(participant_id)
        if args.get("show") == "name" and can_see_participant_name(api_user(), participant):
            if participant.display_name or participant.notes:
                record("view_name", "participant", participant.id, {"page": "api"})
            g.setdefault(NAMES_SHOWN, set()).add(participant.id)
        return participant

    @blp.etag
    @blp.arguments(ParticipantUpdateSchema)
    @blp.response(200, ParticipantSchema)
    def patch(self, values: dict[str, Any], participant_id: int) -> Participant:
        """Record or correct a first name and note: managers and admins for anyone, a reader
        leader for the people of their groups. The answer never carries them. Needs If-Match."""
        participant = _visible(participant_id)
        if not may_record_participant_name(api_user(), participant):
            forbid("Only managers, admins and the leaders of this person's groups may do this.")
        blp.check_etag(participant, ParticipantSchema)
        wanted = NameAndNote(
            display_name=_given(values, "display_name"), notes=_given(values, "notes")
        )
        record_name_and_note(participant, wanted)
        db.session.commit()
        return participant


def _given(values: dict[str, Any], key: str) -> str | None:
    """None keeps the field (left out); null or empty removes it."""
    if key not in values:
        return None
    return values[key] or ""
