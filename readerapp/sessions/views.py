"""Session pages: the "My sessions" dashboard, cancelling and moving one occurrence, adding a
one-off session to a group. A session's own page and its log are the logbook's. Views load,
check access, call an operation and commit once."""

from __future__ import annotations

from collections.abc import Callable

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from sqlalchemy.orm import joinedload
from wtforms.fields.choices import SelectChoice

from ..access import (
    can_edit_group_sessions,
    can_view_group,
    may_lead,
    require,
    sees_participants,
)
from ..extensions import db
from ..groups.models import ReadingGroup
from ..timeutil import utcnow
from ..users.models import User
from ..web.forms import offer_fold
from ..web.saving import save_form
from . import queries
from .forms import AddSessionForm, CancelSessionForm, RescheduleSessionForm
from .models import ReadingSession
from .operations import (
    add_session,
    cancel_session,
    reschedule_session,
)

bp = Blueprint("sessions", __name__, template_folder="templates")


def group_url(group_id: int) -> str | None:
    """The group's page, once the groups pages exist."""
    if "groups.detail" in current_app.view_functions:
        return url_for("groups.detail", group_id=group_id)
    return None


def _page_arg(name: str) -> int:
    value = request.args.get(name, "1")
    return int(value) if value.isdigit() and len(value) < 7 else 1


def _page_url(arg: str, page: int) -> str:
    args = request.args.to_dict()
    args[arg] = str(page)
    return url_for("sessions.dashboard", **args)


def load_session(session_id: int) -> ReadingSession:
    """A session the user may see (404 when there is none, 403 when they may not)."""
    # Every session page checks the group and shows the attendance: read with the row.
    session = db.session.get(
        ReadingSession,
        session_id,
        options=[joinedload(ReadingSession.group), joinedload(ReadingSession.attendance)],
    )
    if session is None:
        abort(404)
    require(can_view_group(current_user, session.group))
    return session


def load_session_for_edit(session_id: int) -> ReadingSession:
    """A session whose log and occurrence the user may change."""
    session = load_session(session_id)
    require(can_edit_group_sessions(current_user, session.group))
    return session


# --- dashboard -------------------------------------------------------------------------------


@bp.get("/sessions")
@login_required
def dashboard() -> ResponseReturnValue:
    now = utcnow()
    partner = not sees_participants(current_user)
    upcoming = queries.upcoming(current_user, now, _page_arg("upcoming_page"))
    today = queries.start_of_local_day(now).date()
    due = None if partner else queries.to_log(current_user, now, _page_arg("due_page"))
    # Worth flagging only when it is not the one card there is.
    oldest = queries.oldest_to_log(current_user, now) if due and due.total > 1 else None
    return render_template(
        "sessions/dashboard.html",
        now=now,
        today=today,
        upcoming=upcoming,
        due=due,
        oldest=oldest,
        recent=queries.recent_logs(current_user, now),
        partner=partner,
        group_url=group_url,
        page_url=_page_url,
    )


def people_choices(group: ReadingGroup, *also: User | None) -> list[SelectChoice]:
    """The group's leaders, anyone in ``also`` and the signed-in editor, as select choices."""
    people: dict[int, User] = {}
    for user in [group.lead_leader, *group.coleaders, *also]:
        if user is not None:
            people[user.id] = user
    if may_lead(current_user):
        people.setdefault(current_user.id, current_user)
    return [SelectChoice(u.id, u.display_name) for u in sorted(people.values(), key=lambda u: u.id)]


# --- one occurrence: cancel, reschedule, add a one-off ------------------------------------------


def _occurrence_page(
    session_id: int,
    form: CancelSessionForm | RescheduleSessionForm,
    template: str,
    *,
    change: Callable[[ReadingSession, int], object],
    fill: Callable[[ReadingSession], None],
    error_field: str,
    done: str,
) -> ResponseReturnValue:
    """Cancel or move one occurrence: the form carries the version it was read at, so a change
    made meanwhile shows as a conflict (409) instead of being overwritten; a refusal shows on
    its field (409 for a clash with another session, 400 otherwise)."""
    session = load_session_for_edit(session_id)
    status, conflict = 200, False
    if request.method == "GET":
        form.version.data = str(session.version)
        fill(session)
    if isinstance(form, RescheduleSessionForm):
        offer_fold(form, form.date.data, form.start_time.data, session.tz_name)
    if request.method == "GET":
        return render_template(template, s=session, form=form, conflict=conflict), status
    if form.validate():
        saved = save_form(
            form,
            lambda: change(session, int(form.version.data)),
            field=error_field,
            conflict_notice=True,
        )
        if saved:
            flash(done, "success")
            return redirect(url_for("logbook.detail", session_id=session_id))
        session = load_session_for_edit(session_id)
        status, conflict = saved.status, saved.changed_meanwhile
        if conflict:
            form.version.data = str(session.version)
    else:
        status = 400
    return render_template(template, s=session, form=form, conflict=conflict), status


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@login_required
def cancel(session_id: int) -> ResponseReturnValue:
    form = CancelSessionForm()
    return _occurrence_page(
        session_id,
        form,
        "sessions/cancel.html",
        change=lambda s, version: cancel_session(s, form.reason.data, expected_version=version),
        fill=lambda s: None,
        error_field="reason",
        done="The session has been cancelled.",
    )


@bp.route("/sessions/<int:session_id>/reschedule", methods=["GET", "POST"])
@login_required
def reschedule(session_id: int) -> ResponseReturnValue:
    form = RescheduleSessionForm()

    def fill(session: ReadingSession) -> None:
        local = session.local_start
        form.date.data = local.date()
        form.start_time.data = local.time().replace(second=0, microsecond=0)
        form.duration_minutes.data = session.duration_minutes
        # A session at a repeated time keeps which one it is unless changed.
        form.fold.data = local.fold

    return _occurrence_page(
        session_id,
        form,
        "sessions/reschedule.html",
        change=lambda s, version: reschedule_session(
            s,
            form.date.data,
            form.start_time.data,
            form.duration_minutes.data,
            expected_version=version,
            fold=form.fold.data,
        ),
        fill=fill,
        error_field="date",
        done="The session has been moved.",
    )


def _group_for_edit(group_id: int) -> ReadingGroup:
    """A group whose sessions the user may change: 404 if they cannot see it, 403 if they only
    see it."""
    group = db.session.get(ReadingGroup, group_id)
    if group is None or not can_view_group(current_user, group):
        abort(404)
    require(can_edit_group_sessions(current_user, group))
    return group


def _new_session_leader_choices(group: ReadingGroup) -> list[SelectChoice]:
    choices = people_choices(group)
    # Without a choice the operation takes the group's lead leader, so "none" only when there
    # is no lead leader to take.
    if group.lead_leader_id is None:
        choices.insert(0, SelectChoice(0, "No leader recorded"))
    return choices


@bp.route("/groups/<int:group_id>/sessions/new", methods=["GET", "POST"])
@login_required
def new(group_id: int) -> ResponseReturnValue:
    """An extra, one-off session outside the group's pattern (a Christmas special, a make-up)."""
    group = _group_for_edit(group_id)
    form = AddSessionForm()
    form.leader_id.choices = _new_session_leader_choices(group)
    status = 200
    if request.method == "GET":
        form.start_time.data = group.start_time
        form.duration_minutes.data = group.duration_minutes
        form.leader_id.data = group.lead_leader_id or 0
    offer_fold(form, form.date.data, form.start_time.data, group.tz_name)
    if request.method == "POST" and form.validate():
        saved = save_form(
            form,
            lambda: add_session(
                group,
                form.date.data,
                form.start_time.data,
                form.duration_minutes.data,
                leader_id=form.leader_id.data or None,
                fold=form.fold.data,
            ),
            field="date",
        )
        if saved:
            flash("The session has been added.", "success")
            return redirect(url_for("logbook.detail", session_id=saved.value.id))
        group = _group_for_edit(group_id)
        status = saved.status
    elif request.method == "POST":
        status = 400
    return (
        render_template("sessions/new.html", group=group, form=form, group_url=group_url(group.id)),
        status,
    )
