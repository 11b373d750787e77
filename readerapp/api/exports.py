"""Attendance exports through the API: the files of the Exports page, for scripts."""

from __future__ import annotations

from typing import Any

from flask import Response
from flask.views import MethodView

from ..access import (
    disclosure_for,
    exports_cover_everyone,
    may_export,
    may_export_answers_by_code,
    sees_every_location_detail,
    sees_participants,
)
from ..exports.downloads import attachment, export_download
from ..exports.outcomes_report import OutcomesScope, export_answers_by_code
from ..exports.queries import ExportFilters
from ..exports.streaming import MEDIA_TYPES, filename, record_participant_export, within_sessions
from ..extensions import db
from .core import Blueprint, api_user, forbid
from .schemas.common import bounded_day
from .schemas.exports import AttendanceExportQuerySchema, OutcomeAnswersExportQuerySchema

blp = Blueprint(
    "api_exports",
    __name__,
    url_prefix="/api/v1/exports",
    description="Attendance exports (CSV, XLSX, JSON), as on the Exports page.",
)

FILE = {"type": "string", "format": "binary"}
DOWNLOADS = {
    "200": {
        "description": "The export, as an attachment.",
        "content": {
            MEDIA_TYPES["csv"]: {"schema": FILE},
            MEDIA_TYPES["xlsx"]: {"schema": FILE},
            MEDIA_TYPES["json"]: {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    },
    "403": "FORBIDDEN",
}


@blp.route("/attendance")
class AttendanceExport(MethodView):
    @blp.arguments(AttendanceExportQuerySchema, location="query")
    @blp.doc(responses=DOWNLOADS)
    def get(self, args: dict[str, Any]) -> Response:
        """Attendance between two local dates: one row per session, or per participant
        attendance (codes only; managers and admins).

        Managers and admins export every organisation's sessions; a partner viewer only its
        own organisation's (asking for another is a 403). `columns=machine` keeps the column
        names and values scripts read; the default is words for people.
        """
        user = api_user()
        if not may_export(user):
            forbid("Only managers, admins and partner viewers may export attendance.")
        organisation_id = args.get("organisation_id")
        if not exports_cover_everyone(user):
            if organisation_id not in (None, user.organisation_id):
                forbid("A partner exports its own organisation's sessions only.")
            organisation_id = user.organisation_id
        if args["per_participant"] and not sees_participants(user):
            forbid("Only managers and admins may export participant codes.")
        asked = ExportFilters(
            date_from=bounded_day(args["start_from"]),
            date_to=bounded_day(args["start_to"]),
            organisation_id=organisation_id,
            setting_type=args.get("setting_type"),
            group_id=args.get("group_id"),
            leader_id=args.get("leader_id"),
            per_participant=args["per_participant"],
            columns=args["columns"],
            disclosure=disclosure_for(user, machine=args["columns"] == "machine"),
            every_room=sees_every_location_detail(user),
        )
        fmt = args["format"]
        if asked.per_participant:
            record_participant_export(asked, fmt, "API")
        # The export reads through a connection of its own: what this one wrote goes first.
        db.session.commit()
        return export_download(within_sessions(asked), fmt, filename(asked, fmt))


ANSWER_DOWNLOADS = {
    "200": {
        "description": "The answer sets, as an attachment.",
        "content": {MEDIA_TYPES["csv"]: {"schema": FILE}, MEDIA_TYPES["xlsx"]: {"schema": FILE}},
    },
    "403": "FORBIDDEN",
}


@blp.route("/outcome-answers")
class OutcomeAnswersExport(MethodView):
    @blp.arguments(OutcomeAnswersExportQuerySchema, location="query")
    @blp.doc(responses=ANSWER_DOWNLOADS)
    def get(self, args: dict[str, Any]) -> Response:
        """Outcome answer sets given by participant code between two local dates, one row per
        answer set with each answer (managers and admins), as on the Outcomes page.

        Answers are health data: every export is recorded in the audit trail (its scope and
        how many answer sets, never the codes or the answers)."""
        if not may_export_answers_by_code(api_user()):
            forbid("Only managers and admins may export answer sets by participant code.")
        scope = OutcomesScope(
            bounded_day(args["start_from"]),
            bounded_day(args["start_to"]),
            args.get("organisation_id"),
            args.get("setting_type"),
        )
        exported = export_answers_by_code(scope, args["format"], "api")
        return attachment(iter([exported.body]), args["format"], exported.filename)
