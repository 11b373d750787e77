"""Invitations and password resets: the pages around their single-use links.

A link's secret travels in the URL path; the log scrubber (``readerapp.security``) replaces it in
every log line, and a refused link is recorded in the audit trail by reason, never by secret.
Failed link attempts count towards the address's token limit, so links cannot be guessed.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import INVITERS, may_invite, roles_required, roles_user_may_invite
from ..audit.trail import record
from ..extensions import db
from ..organisations.models import Organisation
from ..security import client_address, failure_limits, token_rate_limit, too_many
from ..users.admin_forms import ROLE_LABELS
from ..users.models import ROLES
from ..web.saving import save_form
from .forms import ForgotPasswordForm, InviteForm, SetPasswordForm
from .operations import (
    LinkRefused,
    accept_invitation,
    invitation_for_link,
    invite,
    pending_invitations,
    request_password_reset,
    reset_for_link,
    reset_password,
)

bp = Blueprint("accounts", __name__, template_folder="templates")

# A link's secret: what token_urlsafe(32) makes, with room to spare; longer is refused at once.
MAX_TOKEN = 100


def _refused(refusal: LinkRefused, entity_type: str) -> ResponseReturnValue:
    """A refused link: audited (in its own commit, whatever the request did), 404 or 410."""
    db.session.rollback()
    record("refused_link", entity_type, refusal.record_id, {"reason": refusal.reason})
    db.session.commit()
    status = 404 if refusal.reason == "unknown" else 410
    return render_template("accounts/link_refused.html", message=refusal.message), status


def _checked_token(token: str) -> str:
    if len(token) > MAX_TOKEN:
        abort(404)
    return token


# --- invitations ------------------------------------------------------------------------------


def _invite_choices(form: InviteForm) -> None:
    allowed = roles_user_may_invite(current_user)
    form.role.choices = [SelectChoice(r, ROLE_LABELS[r]) for r in ROLES if r in allowed]
    rows = db.session.execute(
        sa.select(Organisation.id, Organisation.name).order_by(Organisation.name)
    ).all()
    form.organisation_id.choices = [SelectChoice("", "None (staff and reader leaders)")] + [
        SelectChoice(str(oid), name) for oid, name in rows
    ]


@bp.route("/invitations", methods=["GET", "POST"])
@roles_required(INVITERS)
def invitations() -> ResponseReturnValue:
    form = InviteForm()
    _invite_choices(form)
    if form.validate_on_submit():
        if not may_invite(current_user, form.role.data, form.organisation_id.data):
            abort(403)
        inviter = current_user._get_current_object()
        saved = save_form(
            form,
            lambda: invite(
                email=form.email.data,
                display_name=form.display_name.data,
                role=form.role.data,
                organisation_id=form.organisation_id.data,
                invited_by=inviter,
            ),
            field="email",
            field_names={"organisation": "organisation_id"},
        )
        if saved:
            flash(f"Invitation sent to {saved.value.email}.", "success")
            return redirect(url_for("accounts.invitations"))
        status = saved.status
    else:
        status = 400 if form.errors else 200
    return render_template(
        "accounts/invitations.html", form=form, pending=pending_invitations()
    ), status


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@token_rate_limit
def accept(token: str) -> ResponseReturnValue:
    try:
        invitation = invitation_for_link(_checked_token(token))
    except LinkRefused as refusal:
        return _refused(refusal, "invitation")
    form = SetPasswordForm()
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: accept_invitation(invitation, form.new_password.data),
            field="new_password",
            field_names={"password": "new_password"},
        )
        if saved:
            flash("Your account is ready: sign in with your email and new password.", "success")
            return redirect(url_for("auth.sign_in"))
        status = saved.status
    else:
        status = 400 if form.errors else 200
    return render_template(
        "accounts/accept_invitation.html", form=form, invitation=invitation
    ), status


# --- password resets --------------------------------------------------------------------------


def _within_reset_limits(email: str) -> None:
    """Count this request against its address and against the account asked about; 429 beyond
    either limit. The address asked about is counted whether or not it has an account, so the
    limit tells nothing either."""
    limits = failure_limits()
    if not limits.enabled:
        return
    setting = "PASSWORD_RESET_RATE_LIMIT"
    address = client_address()
    if not limits.count(setting, "reset-address", address):
        raise too_many("reset-address", address)
    account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
    if not limits.count(setting, "reset-account", account):
        raise too_many("reset-account", account)


@bp.route("/forgot-password", methods=["GET", "POST"])
def forgot_password() -> ResponseReturnValue:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        _within_reset_limits(form.email.data)
        request_password_reset(form.email.data)
        db.session.commit()
        return render_template("accounts/reset_requested.html")
    status = 400 if form.errors else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
@token_rate_limit
def reset(token: str) -> ResponseReturnValue:
    try:
        password_reset = reset_for_link(_checked_token(token))
    except LinkRefused as refusal:
        return _refused(refusal, "password_reset")
    form = SetPasswordForm()
    if form.validate_on_submit():
        saved = save_form(
            form,
            lambda: reset_password(password_reset, form.new_password.data),
            field="new_password",
            field_names={"password": "new_password"},
        )
        if saved:
            flash("Your password has been changed: sign in with it.", "success")
            return redirect(url_for("auth.sign_in"))
        status = saved.status
    else:
        status = 400 if form.errors else 200
    return render_template("accounts/reset_password.html", form=form), status
