"""Referrals: scoped like participants (staff every one; a reader leader the people of their
groups and the referrals they recorded); never partners, who get referral figures in reports."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView

from ..access import may_handle_referrals, may_refer_in, may_see_referral, restrict_referrals
from ..extensions import db
from ..referrals.models import Referral
from ..referrals.operations import (
    ReferralInput,
    StatusMove,
    check_feedback_allowed,
    create_referral,
    move_referral,
)
from .core import Blueprint, api_user, forbid, get_or_404, paginate_query
from .schemas.referrals import (
    ReferralInputSchema,
    ReferralMoveSchema,
    ReferralQuerySchema,
    ReferralSchema,
)

blp = Blueprint(
    "api_referrals",
    __name__,
    url_prefix="/api/v1/referrals",
    description="Referrals per participant code: source, date, reason and status.",
)

NOT_PARTNERS = "Referrals are participant-level data, never shown to partners."


def _visible(referral_id: int) -> Referral:
    user = api_user()
    if not may_handle_referrals(user):
        forbid(NOT_PARTNERS)
    referral = get_or_404(Referral, referral_id)
    if not may_see_referral(user, referral):
        forbid("Only staff and the leaders of this person's groups may see this referral.")
    return referral


@blp.route("")
class Referrals(MethodView):
    @blp.arguments(ReferralQuerySchema, location="query")
    @blp.response(200, ReferralSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Referral]:
        """List the referrals you may see, newest first."""
        user = api_user()
        if not may_handle_referrals(user):
            forbid(NOT_PARTNERS)
        query = sa.select(Referral).order_by(Referral.referred_on.desc(), Referral.id.desc())
        if args.get("status"):
            query = query.where(Referral.status == args["status"])
        return paginate_query(restrict_referrals(query, user), pagination_parameters)

    @blp.arguments(ReferralInputSchema)
    @blp.response(201, ReferralSchema)
    def post(self, values: dict[str, Any]) -> Referral:
        """Record a referral (before or after the person's first session)."""
        user = api_user()
        if not may_handle_referrals(user):
            forbid(NOT_PARTNERS)
        if not may_refer_in(user, values["organisation_id"]):
            forbid("You may refer people to your own groups' organisations only.")
        referral = create_referral(ReferralInput(**values), user)
        db.session.commit()
        return referral


@blp.route("/<int:referral_id>")
class ReferralItem(MethodView):
    @blp.etag
    @blp.response(200, ReferralSchema)
    def get(self, referral_id: int) -> Referral:
        """One referral."""
        return _visible(referral_id)

    @blp.etag
    @blp.arguments(ReferralMoveSchema)
    @blp.response(200, ReferralSchema)
    def patch(self, values: dict[str, Any], referral_id: int) -> Referral:
        """End the referral, or set a later step by hand (the register moves it by itself).
        Needs If-Match."""
        referral = _visible(referral_id)
        blp.check_etag(referral, ReferralSchema)
        if values.get("notify_referrer"):
            check_feedback_allowed(referral)
        move_referral(
            referral, StatusMove(values["status"], values.get("reason"), values.get("on_date"))
        )
        db.session.commit()
        return referral
