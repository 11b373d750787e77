"""Reader leaders as a workforce through the API: their records and check status (never a
certificate number), adding checks and training, and hours worked out from the schedule.
Every answer holding a person's checks is recorded in the audit trail."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from ..access import local_today, may_manage_workforce, may_view_leader_record
from ..audit.trail import recordmany
from ..extensions import db
from ..sessions.models import ReadingSession
from ..users.models import User
from ..workforce import operations as ops
from ..workforce.models import CheckRecord, SessionHoursAdjustment, TrainingRecord
from .core import Blueprint, api_user, forbid, get_or_404, not_found, staff_only
from .schemas.common import bounded_day
from .schemas.workforce import (
    CheckInputSchema,
    CheckSchema,
    CheckUpdateSchema,
    HoursAdjustmentInputSchema,
    HoursAdjustmentSchema,
    HoursQuerySchema,
    HoursSchema,
    LeaderSchema,
    TrainingInputSchema,
    TrainingSchema,
    TrainingUpdateSchema,
)

blp = Blueprint(
    "api_workforce",
    __name__,
    url_prefix="/api/v1",
    description="Reader leaders' checks, training and hours (staff, and each person's own).",
)

RECORDS = "add, correct and remove checks and training, and read and adjust the hours"


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


def _own_record(model: type[Any], user_id: int, record_id: int) -> Any:
    """A person's check or training record for a change by staff; another person's is 404."""
    person = _person(user_id)
    staff_only(RECORDS)
    record = get_or_404(model, record_id)
    if record.user_id != person.id:
        not_found()
    return record


@blp.route("/leaders/<int:user_id>/checks/<int:check_id>")
class LeaderCheckItem(MethodView):
    @blp.arguments(CheckUpdateSchema(partial=True))
    @blp.response(200, CheckSchema)
    def patch(self, values: dict[str, Any], user_id: int, check_id: int) -> Any:
        """Correct a check (managers and admins); fields left out keep their value, and so
        does the certificate's last four digits unless a new number is given."""
        check = _own_record(CheckRecord, user_id, check_id)
        data = ops.check_data(check)
        ops.update_check(check, ops.CheckData(**(vars(data) | values)))
        db.session.commit()
        return check

    @blp.response(204)
    def delete(self, user_id: int, check_id: int) -> None:
        """Remove a check recorded in error (managers and admins)."""
        ops.remove_record(_own_record(CheckRecord, user_id, check_id))
        db.session.commit()


@blp.route("/leaders/<int:user_id>/training/<int:training_id>")
class LeaderTrainingItem(MethodView):
    @blp.arguments(TrainingUpdateSchema(partial=True))
    @blp.response(200, TrainingSchema)
    def patch(self, values: dict[str, Any], user_id: int, training_id: int) -> Any:
        """Correct a training record (managers and admins); fields left out keep their value."""
        training = _own_record(TrainingRecord, user_id, training_id)
        data = ops.training_data(training)
        ops.update_training(training, ops.TrainingData(**(vars(data) | values)))
        db.session.commit()
        return training

    @blp.response(204)
    def delete(self, user_id: int, training_id: int) -> None:
        """Remove a training record made in error (managers and admins)."""
        ops.remove_record(_own_record(TrainingRecord, user_id, training_id))
        db.session.commit()


@blp.route("/sessions/<int:session_id>/hours/<int:user_id>")
class SessionHours(MethodView):
    @blp.response(200, HoursAdjustmentSchema)
    def get(self, session_id: int, user_id: int) -> dict[str, Any]:
        """The minutes a leader or co-leader of a delivered session is credited with, and the
        manager's reason when adjusted (managers and admins)."""
        staff_only(RECORDS)
        session = get_or_404(ReadingSession, session_id)
        person = get_or_404(User, user_id)
        return _hours_answer(session, person)

    @blp.arguments(HoursAdjustmentInputSchema)
    @blp.response(200, HoursAdjustmentSchema)
    def put(self, values: dict[str, Any], session_id: int, user_id: int) -> dict[str, Any]:
        """Credit a leader or co-leader of a delivered session with these minutes instead of
        the worked-out time (managers and admins), as on the session's hours page."""
        staff_only(RECORDS)
        session = get_or_404(ReadingSession, session_id)
        person = get_or_404(User, user_id)
        ops.adjust_hours(session, person, values["minutes"], values["reason"])
        db.session.commit()
        return _hours_answer(session, person)


def _hours_answer(session: ReadingSession, person: User) -> dict[str, Any]:
    """The person's line for the session: 404 unless they led or co-led it, delivered."""
    day = session.local_start.date()
    lines = [
        line
        for line in ops.hours_lines(day, day)
        if line.session.id == session.id and line.person.id == person.id
    ]
    if not lines:
        not_found()
    row = db.session.get(SessionHoursAdjustment, (session.id, person.id))
    return {
        "session_id": session.id,
        "user_id": person.id,
        "minutes": lines[0].minutes,
        "adjusted": lines[0].adjusted,
        "reason": row.reason if row is not None and lines[0].adjusted else None,
    }


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
