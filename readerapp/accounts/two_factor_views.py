"""Two-factor sign-in: the code step, setting it up (forced at sign-in for the roles in
TWO_FACTOR_REQUIRED_ROLES, or by choice from the account page), and an admin's reset.

Wrong codes count against TWO_FACTOR_RATE_LIMIT per client address and per account, and each
is recorded in the audit trail (by reason, never the code).
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from ..access import admins_only
from ..audit.trail import record
from ..extensions import db
from ..security import failure_limits, limit_failed_attempts, too_many
from ..users.models import User
from ..users.two_factor import (
    CodeCheck,
    check_code,
    enable,
    new_secret,
    provisioning_uri,
    qr_code_data_uri,
    recovery_codes_left,
    reset,
    use_recovery_code,
)
from .forms import CodeForm
from .signing import complete_sign_in, pending

bp = Blueprint("two_factor", __name__, template_folder="templates")

SETUP_SECRET = "totp_setup_secret"  # noqa: S105  (a session key, not a secret)
LIMIT = "TWO_FACTOR_RATE_LIMIT"


def _wrong(r: object) -> bool:
    return getattr(r, "status_code", 0) == 401


def _reserve_account_attempt(user: User) -> bool:
    """Take one place in the account's count of wrong codes; 429 once it is full."""
    limits = failure_limits()
    if not limits.enabled:
        return False
    key = str(user.id)
    if not limits.count(LIMIT, "two-factor-account", key):
        raise too_many("two-factor-account", key)
    return True


def _give_back(user: User) -> None:
    failure_limits().refund(LIMIT, "two-factor-account", str(user.id))


def _refuse(user: User, reason: str) -> None:
    db.session.rollback()
    record("refused_sign_in", "sign_in", user.id, {"reason": reason})
    db.session.commit()


def _start_again() -> ResponseReturnValue:
    flash("Your sign-in took too long or has ended: please sign in again.", "info")
    return redirect(url_for("auth.sign_in"))


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limit_failed_attempts(LIMIT, "two-factor", failed=_wrong)
def code() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    found = pending()
    if found is None or found[0].totp_enabled_at is None:
        return _start_again()
    user, state = found
    form = CodeForm()
    if not form.validate_on_submit():
        status = 400 if form.errors else 200
        return render_template("accounts/two_factor_code.html", form=form), status
    reserved = _reserve_account_attempt(user)
    result = check_code(user, form.code.data)
    if result is CodeCheck.WRONG and use_recovery_code(user, form.code.data):
        result = CodeCheck.ACCEPTED
        flash(f"Recovery code used: {recovery_codes_left(user)} left.", "info")
    if result is CodeCheck.ACCEPTED:
        complete_sign_in(user, bool(state.get("remember")))
        db.session.commit()
        if reserved:
            _give_back(user)
        return redirect(state.get("next") or url_for("web.index"))
    _refuse(user, result.value)
    message = (
        "That code has been used already: wait for the next one."
        if result is CodeCheck.REPLAYED
        else "That code is not right. Check your authenticator app and try again."
    )
    form.code.errors.append(message)
    return render_template("accounts/two_factor_code.html", form=form), 401


def _setup_page(user: User, form: CodeForm, status: int, forced: bool) -> ResponseReturnValue:
    secret = session.get(SETUP_SECRET)
    if not isinstance(secret, str):
        secret = session[SETUP_SECRET] = new_secret()
    uri = provisioning_uri(user, secret)
    return render_template(
        "accounts/two_factor_set_up.html",
        form=form,
        secret=secret,
        qr_code=qr_code_data_uri(uri),
        forced=forced,
    ), status


def _try_enable(user: User, form: CodeForm) -> list[str] | None:
    secret = session.get(SETUP_SECRET)
    codes = enable(user, secret, form.code.data) if isinstance(secret, str) else None
    if codes is None:
        _refuse(user, CodeCheck.WRONG.value)
        form.code.errors.append("That code is not right: scan the code again and try once more.")
    return codes


@bp.route("/sign-in/set-up-two-factor", methods=["GET", "POST"])
@limit_failed_attempts(LIMIT, "two-factor", failed=_wrong)
def set_up() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    found = pending()
    if found is None or found[0].totp_enabled_at is not None:
        return _start_again()
    user, state = found
    form = CodeForm()
    if not form.validate_on_submit():
        return _setup_page(user, form, 400 if form.errors else 200, forced=True)
    reserved = _reserve_account_attempt(user)
    codes = _try_enable(user, form)
    if codes is None:
        return _setup_page(user, form, 401, forced=True)
    complete_sign_in(user, bool(state.get("remember")))
    db.session.commit()
    if reserved:
        _give_back(user)
    session.pop(SETUP_SECRET, None)
    return render_template(
        "accounts/recovery_codes.html", codes=codes, next=state.get("next") or url_for("web.index")
    )


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
@limit_failed_attempts(LIMIT, "two-factor", failed=_wrong)
def account() -> ResponseReturnValue:
    user = current_user._get_current_object()
    if user.totp_enabled_at is not None:
        return render_template("accounts/two_factor_on.html", codes_left=recovery_codes_left(user))
    form = CodeForm()
    if not form.validate_on_submit():
        return _setup_page(user, form, 400 if form.errors else 200, forced=False)
    reserved = _reserve_account_attempt(user)
    codes = _try_enable(user, form)
    if codes is None:
        return _setup_page(user, form, 401, forced=False)
    db.session.commit()
    if reserved:
        _give_back(user)
    session.pop(SETUP_SECRET, None)
    return render_template(
        "accounts/recovery_codes.html", codes=codes, next=url_for("auth.account")
    )


@bp.post("/admin/users/<int:user_id>/reset-two-factor")
@admins_only
def admin_reset(user_id: int) -> ResponseReturnValue:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    reset(user)
    record("reset_two_factor", "user", user.id)
    db.session.commit()
    flash(
        f"{user.display_name}'s two-factor sign-in has been reset: they set it up again at "
        "their next sign-in.",
        "success",
    )
    return redirect(url_for("users_admin.edit", user_id=user.id))
