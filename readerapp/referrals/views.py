"""Referral pages: those who lead sessions record referrals for the people of their groups and
see how far each has come; staff see every referral. Partners get figures in reports only."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import (
    MAY_LEAD,
    may_refer_in,
    may_see_referral,
    referral_organisation_ids,
    require,
    restrict_referrals,
    roles_required,
)
from ..extensions import db
from ..web.saving import save_form
from .forms import ReferralForm, ReferralStatusForm
from .models import REFERRAL_STATUSES, STATUS_LABELS, Referral
from .operations import (
    ReferralInput,
    StatusMove,
    create_referral,
    move_referral,
    reason_label,
    reasons,
)
from .queries import listed, organisations_among, referrals_query, referrer_organisations

bp = Blueprint("referrals", __name__, template_folder="templates")
SELF_REFERRAL = 0  # the "Referred by" choice for a self-referral


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {"referral_statuses": STATUS_LABELS, "reason_label": reason_label}


@bp.get("/referrals")
@roles_required(MAY_LEAD)
def index() -> ResponseReturnValue:
    status = request.args.get("status", "")
    query = restrict_referrals(referrals_query(), current_user)
    if status in REFERRAL_STATUSES:
        query = query.where(Referral.status == status)
    return render_template("referrals/index.html", referrals=listed(query), chosen_status=status)


def _choices(form: ReferralForm) -> None:
    form.organisation_id.choices = [
        SelectChoice(o.id, o.name)
        for o in organisations_among(referral_organisation_ids(current_user))
    ]
    form.referrer_organisation_id.choices = [SelectChoice(SELF_REFERRAL, "Self-referral")] + [
        SelectChoice(o.id, o.name) for o in referrer_organisations()
    ]
    form.reason.choices = [SelectChoice(r, reason_label(r)) for r in reasons()]


@bp.route("/referrals/new", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def create() -> ResponseReturnValue:
    form = ReferralForm()
    _choices(form)
    if form.validate_on_submit():
        require(may_refer_in(current_user, form.organisation_id.data))
        source = form.referrer_organisation_id.data
        data = ReferralInput(
            organisation_id=form.organisation_id.data,
            code=form.code.data or "",
            new_code=bool(form.new_code.data),
            referrer_organisation_id=None if source == SELF_REFERRAL else source,
            referrer_name=form.referrer_name.data,
            referrer_email=form.referrer_email.data,
            referred_on=form.referred_on.data,
            reason=form.reason.data or "",
        )
        saved = save_form(form, lambda: create_referral(data, current_user), field="code")
        if saved:
            flash("Referral recorded.", "success")
            return redirect(url_for("referrals.index"))
        status = saved.status
    else:
        status = 400 if form.errors else 200
    return render_template("referrals/form.html", form=form), status


@bp.route("/referrals/<int:referral_id>", methods=["GET", "POST"])
@roles_required(MAY_LEAD)
def detail(referral_id: int) -> ResponseReturnValue:
    referral = db.get_or_404(Referral, referral_id)
    require(may_see_referral(current_user, referral))
    form = ReferralStatusForm()
    status = 200
    if request.method == "POST":
        if form.validate_on_submit():
            move = StatusMove(form.status.data or "", form.reason.data, form.on_date.data)
            saved = save_form(form, lambda: move_referral(referral, move), field="status")
            if saved:
                flash(f"Referral {STATUS_LABELS[saved.value.status].lower()}.", "success")
                return redirect(url_for("referrals.detail", referral_id=referral_id))
            referral = db.get_or_404(Referral, referral_id)
            status = saved.status
        else:
            status = 400
    return render_template("referrals/detail.html", referral=referral, form=form), status
