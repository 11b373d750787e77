"""Safeguarding concerns: anyone who leads sessions raises one and gets a receipt; designated
safeguarding leads alone list, read and move them on, every read recorded in the audit trail."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from ..access import may_raise_concern_about, may_raise_concerns, may_read_concerns
from ..audit import record, recordmany
from ..extensions import db
from ..safeguarding.models import Concern
from ..safeguarding.operations import (
    ConcernInput,
    StatusChange,
    change_status,
    raise_concern,
    resolve_subject,
)
from .core import Blueprint, api_user, forbid, get_or_404, paginate_query
from .schemas.concerns import (
    ConcernInputSchema,
    ConcernQuerySchema,
    ConcernReceiptSchema,
    ConcernSchema,
    ConcernStatusSchema,
)

blp = Blueprint(
    "api_concerns",
    __name__,
    url_prefix="/api/v1/concerns",
    description="Safeguarding concerns: leaders raise them; designated safeguarding leads alone "
    "read and manage them.",
)

LEADS_ONLY = "Only designated safeguarding leads may read or manage concerns."


def _lead_only() -> None:
    if not may_read_concerns(api_user()):
        forbid(LEADS_ONLY)


@blp.route("")
class Concerns(MethodView):
    @blp.arguments(ConcernQuerySchema, location="query")
    @blp.response(200, ConcernSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Concern]:
        """List concerns, newest first (designated safeguarding leads only; audited)."""
        _lead_only()
        query = sa.select(Concern).order_by(Concern.created_at.desc(), Concern.id.desc())
        if args.get("status"):
            query = query.where(Concern.status == args["status"])
        concerns = paginate_query(query, pagination_parameters)
        recordmany("view_concern", "concern", [c.id for c in concerns], {"via": "api"})
        db.session.commit()
        return concerns

    @blp.arguments(ConcernInputSchema)
    @blp.response(201, ConcernReceiptSchema)
    def post(self, values: dict[str, Any]) -> Concern:
        """Raise a concern about a session you log or a person of your groups. The answer is a
        receipt: once sent, only safeguarding leads read it."""
        user = api_user()
        if not may_raise_concerns(user):
            forbid("Only those who lead sessions raise concerns.")
        subject = resolve_subject(values.get("session_id"), values.get("participant_id"))
        if not may_raise_concern_about(user, subject.session, subject.participant):
            forbid("You may raise concerns about your own groups' sessions and people only.")
        data = ConcernInput(
            category=values["category"],
            seen_or_said=values["seen_or_said"],
            action_taken=values["action_taken"],
            who_was_told=values.get("who_was_told"),
            occurred_at=values["occurred_at"],
            session_id=values.get("session_id"),
            participant_id=values.get("participant_id"),
        )
        concern = raise_concern(data, subject, user)
        db.session.commit()
        return concern


@blp.route("/<int:concern_id>")
class ConcernItem(MethodView):
    @blp.etag
    @blp.response(200, ConcernSchema)
    def get(self, concern_id: int) -> Concern:
        """One concern (designated safeguarding leads only; audited)."""
        _lead_only()
        concern = get_or_404(Concern, concern_id)
        record("view_concern", "concern", concern.id, {"via": "api"})
        db.session.commit()
        return concern

    @blp.etag
    @blp.arguments(ConcernStatusSchema)
    @blp.response(200, ConcernSchema)
    def patch(self, values: dict[str, Any], concern_id: int) -> Concern:
        """Refer the concern to a partner or agency, or close it with its outcome. Needs
        If-Match."""
        _lead_only()
        concern = get_or_404(Concern, concern_id)
        blp.check_etag(concern, ConcernSchema)
        change_status(
            concern,
            StatusChange(
                status=values["status"],
                referred_to=values.get("referred_to"),
                reference=values.get("reference"),
                outcome=values.get("outcome"),
            ),
        )
        record("view_concern", "concern", concern.id, {"via": "api"})
        db.session.commit()
        return concern
