"""Signing in and out, and a user's own account."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required, login_user, logout_user

from ..security import limit_failed_attempts
from ..users.operations import authenticate, change_password
from ..web.saving import save_form
from .forms import ChangePasswordForm, SignInForm

bp = Blueprint("auth", __name__, template_folder="templates")


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
            saved = save_form(form, lambda: login_user(user, remember=form.remember.data))
            if saved:
                return redirect(_safe_next(request.args.get("next")) or url_for("web.index"))
            return render_template("accounts/sign_in.html", form=form), saved.status
        form.password.errors.append("The email or password is not right.")
        return render_template("accounts/sign_in.html", form=form), 401
    status = 400 if form.errors else 200
    return render_template("accounts/sign_in.html", form=form), status


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    logout_user()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


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
