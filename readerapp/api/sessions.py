"""Sessions (one meeting of a group), their attendance, and reading materials."""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ..access import can_edit_group_sessions, may_add_material
from ..db import begin_writing, contains_text, reads_first
from ..extensions import db
from ..logbook.operations import (
    Headcounts,
    NeedsConfirmation,
    RegisterInput,
    SessionError,
    SessionLog,
    check_idempotency_key,
    earlier_receipt,
    log_session,
    receive_once,
)
from ..organisations.models import Partnership
from ..sessions.models import ReadingMaterial, ReadingSession
from ..sessions.operations import (
    MaterialData,
    NewMaterial,
    add_session,
    cancel_session,
    reschedule_session,
    save_material,
)
from ..sessions.states import SESSION_STATES, state_case
from ..timeutil import local_to_utc, local_zone, to_local, utcnow
from .core import (
    Blueprint,
    api_user,
    forbid,
    get_or_404,
    keyset_page,
    paginate_query,
    staff_only,
)
from .schemas import shared
from .schemas.attendance import (
    AttendanceInputSchema,
    AttendanceSchema,
    IdempotencyHeaderSchema,
    attendance_view,
)
from .schemas.common import bounded_day
from .schemas.materials import (
    MaterialInputSchema,
    MaterialQuerySchema,
    MaterialSchema,
    MaterialUpdateSchema,
)
from .schemas.sessions import (
    SessionCountsQuerySchema,
    SessionCountsSchema,
    SessionInputSchema,
    SessionQuerySchema,
    SessionSchema,
    SessionUpdateSchema,
    session_cursor,
)
from .visibility import (
    restrict,
    visible_group_ids,
    visible_group_or_404,
    visible_session_or_404,
)

blp = Blueprint(
    "api_sessions",
    __name__,
    url_prefix="/api/v1/sessions",
    description="Sessions: each meeting of a group, and its attendance.",
)
materials = Blueprint(
    "api_materials",
    __name__,
    url_prefix="/api/v1/materials",
    description="What was read: stories, poems, extracts.",
)


def session_query(args: dict[str, Any]) -> sa.Select:
    query = (
        sa.select(ReadingSession)
        .options(selectinload(ReadingSession.materials))
        .order_by(ReadingSession.start_dt, ReadingSession.id)
    )
    return filtered_sessions(query, args)


def filtered_sessions(query: sa.Select, args: dict[str, Any]) -> sa.Select:
    """``query`` narrowed by the list's filters, to the sessions the caller may see."""
    tz = local_zone()
    if "start_from" in args:
        start = local_to_utc(bounded_day(args["start_from"]), time(), tz)
        query = query.where(ReadingSession.start_dt >= start)
    if "start_to" in args:
        end = local_to_utc(bounded_day(args["start_to"]) + timedelta(days=1), time(), tz)
        query = query.where(ReadingSession.start_dt < end)
    if "group_id" in args:
        query = query.where(ReadingSession.group_id == args["group_id"])
    if "organisation_id" in args:
        partnered = sa.select(Partnership.group_id).where(
            Partnership.organisation_id == args["organisation_id"]
        )
        query = query.where(ReadingSession.group_id.in_(partnered))
    if "status" in args:
        query = query.where(ReadingSession.status == args["status"])
    if "state" in args:
        state = state_case(ReadingSession.status, ReadingSession.start_dt, utcnow())
        query = query.where(state == args["state"])
    if "leader_id" in args:
        query = query.where(ReadingSession.leader_id == args["leader_id"])
    return restrict(query, ReadingSession.group_id, visible_group_ids(api_user()))


NEXT_LINK = {
    "Link": {
        "description": 'rel="next": the next page, by cursor (absent on the last page).',
        "schema": {"type": "string"},
    }
}


@blp.route("/counts")
class SessionCounts(MethodView):
    @blp.arguments(SessionCountsQuerySchema, location="query")
    @blp.response(200, SessionCountsSchema)
    def get(self, args: dict[str, Any]) -> dict[str, int]:
        """How many of the sessions you may see were planned, and what became of them.

        The same filters as the list. `planned` is always the sum of the four states:
        `delivered`, `cancelled`, `not_yet_logged` (started, nobody has logged it yet) and
        `to_come` (not started yet), as in the partnership report and the exports.
        """
        state = state_case(ReadingSession.status, ReadingSession.start_dt, utcnow())
        query = sa.select(state, sa.func.count()).select_from(ReadingSession).group_by(state)
        counts = dict.fromkeys(SESSION_STATES, 0)
        counts |= {str(s): int(n) for s, n in db.session.execute(filtered_sessions(query, args))}
        return {"planned": sum(counts.values())} | counts


@blp.route("")
class Sessions(MethodView):
    @blp.etag
    @blp.arguments(SessionQuerySchema, location="query")
    @blp.response(200, SessionSchema(many=True), headers=NEXT_LINK)
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[ReadingSession]:
        """List the sessions you may see, oldest first.

        `from` and `to` are local dates in the service's time zone, both included. To walk a
        long list, follow the Link header's rel="next" (a cursor) rather than counting pages.
        """
        after = None
        if "after" in args:
            start, session_id = args["after"]
            # The first term lets the start_dt index seek to the cursor; the second breaks ties.
            after = sa.and_(
                ReadingSession.start_dt >= start,
                sa.or_(ReadingSession.start_dt > start, ReadingSession.id > session_id),
            )
        return keyset_page(session_query(args), pagination_parameters, after, session_cursor)

    @blp.arguments(SessionInputSchema)
    @blp.response(201, SessionSchema)
    def post(self, values: dict[str, Any]) -> ReadingSession:
        """Add an extra, one-off session to a group (its leaders, managers and admins).

        It is outside the group's pattern, so regenerating the pattern leaves it alone; it can
        be logged, moved and cancelled like any other. A start another session of the group
        already has answers 409.
        """
        user = api_user()
        group = visible_group_or_404(user, values["group_id"])
        if not can_edit_group_sessions(user, group):
            forbid("Only the group's leaders, managers and admins may add sessions to it.")
        start = to_local(values["start_dt"], group.tz_name)
        session = add_session(
            group,
            start.date(),
            start.time().replace(tzinfo=None),
            values.get("duration_minutes"),
            leader_id=values.get("leader_id"),
            fold=start.fold,
        )
        db.session.commit()
        return session


def editable_session(session_id: int) -> ReadingSession:
    """A session the caller may change: 404 if they cannot see it, 403 if they only see it."""
    user = api_user()
    session = visible_session_or_404(user, session_id)
    if not can_edit_group_sessions(user, session.group):
        forbid("Only the group's leaders, managers and admins may change its sessions.")
    return session


@blp.route("/<int:session_id>")
class SessionItem(MethodView):
    @blp.etag
    @blp.response(200, SessionSchema)
    def get(self, session_id: int) -> ReadingSession:
        """One session."""
        return visible_session_or_404(api_user(), session_id)

    @blp.etag
    @blp.arguments(SessionUpdateSchema)
    @blp.response(200, SessionSchema)
    def patch(self, changes: dict[str, Any], session_id: int) -> ReadingSession:
        """Cancel a session, or move it to a new start and/or length.

        To cancel: `{"status": "cancelled", "cancellation_reason": "..."}`. To move:
        `{"start_dt": "...", "duration_minutes": 90}`; the start keeps its instant and is
        stored as the wall-clock time in the session's zone. Needs If-Match.
        """
        session = editable_session(session_id)
        blp.check_etag(session, shared(SessionSchema))
        version = session.version
        if changes.get("status") == "cancelled":
            cancel_session(session, changes["cancellation_reason"], expected_version=version)
        else:
            start = to_local(changes.get("start_dt", session.start_dt), session.tz_name)
            reschedule_session(
                session,
                start.date(),
                start.time().replace(tzinfo=None),
                changes.get("duration_minutes", session.duration_minutes),
                expected_version=version,
                fold=start.fold,
            )
        db.session.commit()
        return session


REPLAYED = {
    "Idempotent-Replayed": {
        "description": "true when this answer is the log as saved by an earlier request with "
        "the same Idempotency-Key (nothing was written this time).",
        "schema": {"type": "string", "enum": ["true"]},
    }
}


@blp.route("/<int:session_id>/attendance")
class SessionAttendance(MethodView):
    @blp.etag
    @blp.response(200, AttendanceSchema)
    def get(self, session_id: int) -> dict[str, Any]:
        """A session's attendance: headcounts, and the register (not for partners)."""
        return attendance_view(visible_session_or_404(api_user(), session_id))

    @reads_first
    @blp.etag
    @blp.arguments(AttendanceInputSchema)
    @blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
    @blp.response(200, AttendanceSchema, headers=REPLAYED)
    def put(
        self, entry: dict[str, Any], session_id: int, idempotency_key: str | None = None
    ) -> Any:
        """Log a session as delivered with its headcounts, or change its log.

        Send the ETag of the attendance you read (GET) as If-Match. Omitted notes, materials
        and register keep their current value. A session that has not started yet cannot be
        logged as delivered. Unusual counts (0 participants, more than the group's usual most,
        more first-timers than new codes) answer 422 with the reason unless ``confirm`` is true.
        With an ``Idempotency-Key`` header the log is written once however often it is sent.
        """
        key = check_idempotency_key(idempotency_key)
        session = editable_session(session_id)
        if key is not None and earlier_receipt(key, session) is not None:
            # Sent again after its reply was lost: the ETag it carries is from before its own
            # write, so the precondition is not asked again.
            return _replayed(session)
        blp.check_etag(attendance_view(session), shared(AttendanceSchema))
        version = session.version  # the one the client saw: a change after it is refused
        begin_writing()
        if key is not None and receive_once(key, session, api_user()) is not None:
            # A request with the same key wrote meanwhile (it was sent twice at once).
            db.session.rollback()
            return _replayed(editable_session(session_id))
        register = entry.get("register")
        log = SessionLog(
            status="delivered",
            headcounts=Headcounts(
                participants=entry["participants"],
                first_time=entry["first_time"],
                staff_carers=entry["staff_carers"],
                volunteers=entry["volunteers"],
            ),
            material_ids=entry.get("material_ids", [m.id for m in session.materials]),
            new_materials=[NewMaterial(**m) for m in entry.get("new_materials", [])],
            register=None
            if register is None
            else RegisterInput(
                codes=tuple(register["codes"]), new_codes=tuple(register["new_codes"])
            ),
            notes=entry.get("notes", session.notes),
            leader_id=session.leader_id,
            confirmed=entry["confirm"],
            entered_late=entry["entered_late"],
        )
        try:
            log_session(session, log, expected_version=version, actor=api_user())
        except NeedsConfirmation as unusual:
            raise SessionError(
                f'{unusual.message} Send "confirm": true if it is.', "confirm"
            ) from None
        # The answer as flushed: after the commit it would be read back in a new transaction.
        answer = attendance_view(session)
        db.session.commit()
        return answer


def _replayed(session: ReadingSession) -> tuple[dict[str, Any], int, dict[str, str]]:
    return attendance_view(session), 200, {"Idempotent-Replayed": "true"}


@materials.route("")
class Materials(MethodView):
    @materials.etag
    @materials.arguments(MaterialQuerySchema, location="query")
    @materials.response(200, MaterialSchema(many=True))
    @materials.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[ReadingMaterial]:
        """List reading materials."""
        query = sa.select(ReadingMaterial).order_by(ReadingMaterial.title, ReadingMaterial.id)
        if "kind" in args:
            query = query.where(ReadingMaterial.kind == args["kind"])
        if "q" in args:
            query = query.where(
                contains_text(args["q"], ReadingMaterial.title, ReadingMaterial.author)
            )
        return paginate_query(query, pagination_parameters)

    @materials.arguments(MaterialInputSchema)
    @materials.response(201, MaterialSchema)
    def post(self, values: dict[str, Any]) -> ReadingMaterial:
        """Add a text to the catalogue (reader leaders, managers and admins).

        A title and author already there, in any case, answer 409.
        """
        if not may_add_material(api_user()):
            forbid("Only reader leaders, managers and admins may add texts.")
        material = save_material(None, MaterialData(**values))
        db.session.commit()
        return material


@materials.route("/<int:material_id>")
class MaterialItem(MethodView):
    @materials.etag
    @materials.response(200, MaterialSchema)
    def get(self, material_id: int) -> ReadingMaterial:
        """One reading material."""
        return get_or_404(ReadingMaterial, material_id)

    @materials.etag
    @materials.arguments(MaterialUpdateSchema(partial=True))
    @materials.response(200, MaterialSchema)
    def patch(self, values: dict[str, Any], material_id: int) -> ReadingMaterial:
        """Correct a text (managers and admins): the correction shows wherever it was read.

        Needs If-Match.
        """
        material = get_or_404(ReadingMaterial, material_id)
        staff_only("correct texts in the catalogue")
        materials.check_etag(material, shared(MaterialSchema))
        current = {"title": material.title, "author": material.author, "kind": material.kind}
        save_material(material, MaterialData(**(current | values)))
        db.session.commit()
        return material
