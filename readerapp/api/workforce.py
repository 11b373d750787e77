"""Reader leaders as a workforce through the API: their records and check status (never a
certificate number), adding checks and training, and hours worked out from the schedule.
Every answer holding a person's checks is recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..access import local_today, may_manage_workforce, may_view_leader_record
from ..audit.trail import recordmany
from ..extensions import db
from ..users.models import User
from ..workforce import operations as ops
from .core import Blueprint, api_user, forbid, get_or_404, staff_only
from .schemas.common import bounded_day
from .schemas.workforce import (
    CheckInputSchema,
    CheckSchema,
    HoursQuerySchema,
    HoursSchema,
    LeaderSchema,
    TrainingInputSchema,
    TrainingSchema,
)

blp = Blueprint(
    "api_workforce",
    __name__,
    url_prefix="/api/v1",
    description="Reader leaders' checks, training and hours (staff, and each person's own).",
)

RECORDS = "add checks and training and read the hours"


def _person(user_id: int) -> User:
    person = get_or_404(User, user_id)
    if not may_view_leader_record(api_user(), person):
        forbid("Only managers, admins and the person themself may see these records.")
    return person


@blp.route("/leaders")
class Leaders(MethodView):
    @blp.response(200, LeaderSchema(many=True))
    def get(self) -> list[ops.LeaderSummary]:
        """Everyone who may lead with their check status (managers and admins); a reader
        leader gets their own record only; partners none."""
        user = api_user()
        if may_manage_workforce(user):
            people = ops.leaders(active_only=False)
        elif may_view_leader_record(user, user):
            people = [user]
        else:
            forbid("Partners never see leaders' records.")
        today = local_today()
        summaries = [ops.leader_summary(person, today) for person in people]
        recordmany("view_checks", "leader_record", [s.user_id for s in summaries], {"via": "api"})
        return summaries


@blp.route("/leaders/<int:user_id>")
class LeaderItem(MethodView):
    @blp.response(200, LeaderSchema)
    def get(self, user_id: int) -> ops.LeaderSummary:
        """One person's record, checks and training."""
        person = _person(user_id)
        summary = ops.leader_summary(person, local_today())
        recordmany("view_checks", "leader_record", [person.id], {"via": "api"})
        return summary


@blp.route("/leaders/<int:user_id>/checks")
class LeaderChecks(MethodView):
    @blp.arguments(CheckInputSchema)
    @blp.response(201, CheckSchema)
    def post(self, values: dict[str, Any], user_id: int) -> Any:
        """Add a check (managers and admins). Only the certificate number's last four digits
        are kept; answers never carry them."""
        person = _person(user_id)
        staff_only(RECORDS)
        check = ops.add_check(person, ops.CheckData(**values))
        db.session.commit()
        return check


@blp.route("/leaders/<int:user_id>/training")
class LeaderTraining(MethodView):
    @blp.arguments(TrainingInputSchema)
    @blp.response(201, TrainingSchema)
    def post(self, values: dict[str, Any], user_id: int) -> Any:
        """Add a course completed (managers and admins); the course is one the service knows."""
        person = _person(user_id)
        staff_only(RECORDS)
        training = ops.add_training(person, ops.TrainingData(**values))
        db.session.commit()
        return training


@blp.route("/hours")
class Hours(MethodView):
    @blp.arguments(HoursQuerySchema, location="query")
    @blp.response(200, HoursSchema(many=True))
    def get(self, args: dict[str, Any]) -> list[ops.HoursTotal]:
        """Hours between two local dates per person, group or partner, from the sessions
        delivered (length plus preparation and travel, or a manager's adjustment), with the
        total last; with `organisation_id`, only that partner's sessions (managers and admins)."""
        staff_only(RECORDS)
        start, end = bounded_day(args["date_from"]), bounded_day(args["date_to"])
        # A period that ends before it starts holds no sessions, as the exports' filters.
        lines = ops.hours_lines(start, end, args.get("organisation_id")) if start <= end else []
        return [*ops.hours_totals(lines, args["by"]), ops.total_of(lines)]
