"""Safeguarding pages. Leaders raise concerns and then see only that each was received;
designated safeguarding leads read and manage them, every read recorded in the audit trail."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..access import (
    MAY_LEAD,
    admins_only,
    may_grant_safeguarding_lead,
    may_raise_concern_about,
    may_read_concerns,
    require,
    roles_required,
    visible_group_ids,
)
from ..audit import record, recordmany
from ..extensions import db
from ..timeutil import local_to_utc, local_zone
from ..users.models import User
from ..web.saving import save_form
from .forms import ConcernForm, LeadForm, StatusForm
from .models import CONCERN_CATEGORIES, CONCERN_STATUSES, STATUS_LABELS, Concern
from .operations import (
    ConcernError,
    ConcernInput,
    StatusChange,
    change_status,
    raise_concern,
    resolve_subject,
    set_safeguarding_lead,
)
from .queries import concerns_for_leads, receipts_of, sessions_to_raise_about

bp = Blueprint("safeguarding", __name__, template_folder="templates")


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"concern_categories": CONCERN_CATEGORIES, "concern_statuses": STATUS_LABELS}


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if not value:
        return None
    if not value.isdigit():
        abort(404)
    return int(value)


@bp.get("/safeguarding")
@roles_required(MAY_LEAD)
def index() -> ResponseReturnValue:
    if may_read_concerns(current_user):
        status = request.args.get("status", "")
        concerns = concerns_for_leads(status if status in CONCERN_STATUSES else None)
        recordmany("view_concern", "concern", [c.id for c in concerns], {"via": "list"})
        return render_template(
            "safeguarding/concerns.html", concerns=concerns, chosen_status=status
        )
    return render_template(
        "safeguarding/raised.html",
        receipts=receipts_of(current_user),
        sessions=sessions_to_raise_about(visible_group_ids(current_user)),
    )


@bp.route("/safeguarding/concerns/new", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def raise_new() -> ResponseReturnValue:
    try:
        subject = resolve_subject(_int_arg("session_id"), _int_arg("participant_id"))
    except ConcernError:
        abort(404)
    require(may_raise_concern_about(current_user, subject.session, subject.participant))
    form = ConcernForm()
    if form.validate_on_submit():
        when = local_to_utc(form.occurred_on.data, form.occurred_time.data, local_zone())
        data = ConcernInput(
            category=form.category.data or "",
            seen_or_said=form.seen_or_said.data or "",
            action_taken=form.action_taken.data or "",
            who_was_told=form.who_was_told.data,
            occurred_at=when,
            session_id=subject.session.id if subject.session else None,
            participant_id=subject.participant.id if subject.participant else None,
        )
        saved = save_form(
            form,
            lambda: raise_concern(data, subject, current_user),
            field_names={"occurred_at": "occurred_on"},
        )
        if saved:
            flash(
                f"Concern received (reference {saved.value.id}). The safeguarding lead has it.",
                "success",
            )
            return redirect(url_for("safeguarding.index"))
        subject = resolve_subject(_int_arg("session_id"), _int_arg("participant_id"))
    status = 400 if form.errors else 200
    return render_template("safeguarding/raise.html", form=form, subject=subject), status


def _concern(concern_id: int) -> Concern:
    # Permission before loading: nobody else learns whether a concern exists.
    require(may_read_concerns(current_user))
    return db.get_or_404(Concern, concern_id)


@bp.get("/safeguarding/concerns/<int:concern_id>")
@roles_required(MAY_LEAD)
def detail(concern_id: int) -> ResponseReturnValue:
    concern = _concern(concern_id)
    record("view_concern", "concern", concern.id)
    return render_template("safeguarding/detail.html", concern=concern, form=StatusForm())


@bp.post("/safeguarding/concerns/<int:concern_id>/status")
@roles_required(MAY_LEAD)
def move_on(concern_id: int) -> ResponseReturnValue:
    concern = _concern(concern_id)
    form = StatusForm()
    if form.validate_on_submit():
        change = StatusChange(
            status=form.status.data or "",
            referred_to=form.referred_to.data,
            reference=form.reference.data,
            outcome=form.outcome.data,
        )
        saved = save_form(form, lambda: change_status(concern, change), field="status")
        if saved:
            flash(f"Concern {concern_id}: {STATUS_LABELS[saved.value.status]}.", "success")
            return redirect(url_for("safeguarding.detail", concern_id=concern_id))
        concern = _concern(concern_id)
        status = saved.status
    else:
        status = 400
    record("view_concern", "concern", concern.id)
    return render_template("safeguarding/detail.html", concern=concern, form=form), status


@bp.post("/admin/users/<int:user_id>/safeguarding-lead")
@admins_only
def grant(user_id: int) -> ResponseReturnValue:
    require(may_grant_safeguarding_lead(current_user))
    user = db.get_or_404(User, user_id)
    form = LeadForm()
    if not form.validate_on_submit():
        abort(400)
    granted = bool(form.safeguarding_lead.data)
    saved = save_form(form, lambda: set_safeguarding_lead(user, granted))
    if not saved:
        return render_template("safeguarding/grant_refused.html", user=user, form=form), 400
    flash(
        f"{user.display_name} is {'now' if granted else 'no longer'} a designated safeguarding "
        "lead.",
        "success",
    )
    return redirect(url_for("users_admin.edit", user_id=user_id))
