"""Signing in and out, a person's own account, and their sign-ins."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from ..extensions import db
from ..security import limit_failed_attempts
from ..users.auth import clear_device
from ..users.operations import (
    active_sign_ins,
    authenticate,
    change_password,
    end_other_sign_ins,
    end_sign_in,
    is_this_sign_in,
)
from ..web.saving import save_form
from .forms import ChangePasswordForm, SignInForm
from .signing import begin_pending, complete_sign_in, for_this_device, second_step
from .sso import providers

bp = Blueprint("auth", __name__, template_folder="templates")


@bp.app_context_processor
def _sso_providers() -> dict[str, object]:
    return {"sso_providers": providers()}


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so a crafted link cannot send someone elsewhere after sign-in."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/sign-in", methods=["GET", "POST"])
@limit_failed_attempts("SIGNIN_RATE_LIMIT", "sign-in", failed=lambda r: r.status_code == 401)
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            remember = bool(form.remember.data)
            next_url = _safe_next(request.args.get("next"))
            step = second_step(user)
            if step is not None:
                # Signed in only once the second factor is given (or, if required, set up).
                begin_pending(user, remember, next_url)
                return for_this_device(
                    user,
                    redirect(url_for("two_factor.code" if step == "code" else "two_factor.set_up")),
                )
            saved = save_form(form, lambda: complete_sign_in(user, remember))
            if saved:
                return for_this_device(user, redirect(next_url or url_for("web.index")))
            return render_template("accounts/sign_in.html", form=form), saved.status
        form.password.errors.append("The email or password is not right.")
        return render_template("accounts/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    user = current_user._get_current_object()
    end_sign_in(user, user.sign_in_token)
    db.session.commit()
    logout_user()
    flash("You have signed out.", "success")
    # The phone forgets the pages it kept and any logs still queued on it.
    return clear_device(redirect(url_for("auth.sign_in")))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> ResponseReturnValue:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        saved = save_form(
            form,
            lambda: change_password(user, form.current_password.data, form.new_password.data),
            field_names={"password": "new_password"},
            field="new_password",
        )
        if saved and saved.value:
            # The change signs out other devices; keep this one signed in.
            login_user(user)
            flash("Your password has been changed.", "success")
            return redirect(url_for("auth.account"))
        if saved:
            form.current_password.errors.append("That is not your current password.")
    status = 400 if form.errors else 200
    return render_template("accounts/account.html", form=form), status


@bp.get("/account/sign-ins")
@login_required
def sign_ins() -> ResponseReturnValue:
    user = current_user._get_current_object()
    return render_template(
        "accounts/sign_ins.html",
        sign_ins=active_sign_ins(user),
        this=user.sign_in_token,
        is_this=is_this_sign_in,
    )


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere() -> ResponseReturnValue:
    user = current_user._get_current_object()
    end_other_sign_ins(user, keep=None)
    db.session.commit()
    logout_user()
    flash("You have signed out on every device, this one included.", "success")
    return redirect(url_for("auth.sign_in"))
