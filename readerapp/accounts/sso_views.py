"""Signing in through an OpenID Connect provider (``readerapp.accounts.sso``).

A refused answer (a state not of this browser, a token with a wrong nonce, audience, issuer or
signature, an email outside the provider's domains or without an account) signs nobody in,
says why, answers 4xx and is recorded in the audit trail (by reason and provider).
"""

from __future__ import annotations

from authlib.integrations.base_client.errors import MismatchingStateError
from flask import Blueprint, abort, current_app, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..audit.trail import record
from ..extensions import db
from .signing import begin_pending, complete_sign_in, for_this_device, second_step
from .sso import SSO_ERRORS, SsoRefused, account_for, client, provider

bp = Blueprint("sso", __name__, template_folder="templates")


def _callback_url(name: str) -> str:
    # From the configured address: the provider must know it, and a Host header may lie.
    base = current_app.config["BASE_URL"].rstrip("/")
    return base + url_for("sso.callback", name=name)


@bp.get("/sign-in/sso/<name>")
def start(name: str) -> ResponseReturnValue:
    if provider(name) is None:
        abort(404)
    if current_user.is_authenticated:
        return redirect(url_for("web.index"))
    try:
        return client(name).authorize_redirect(_callback_url(name))
    except SSO_ERRORS:
        return _refused(name, SsoRefused("sso_token", "The sign-on provider cannot be reached."))


def _refused(name: str, refusal: SsoRefused) -> ResponseReturnValue:
    db.session.rollback()
    record("refused_sign_in", "sign_in", None, {"reason": refusal.reason, "provider": name})
    db.session.commit()
    status = 403 if refusal.reason in {"sso_domain", "sso_no_account"} else 400
    return render_template("accounts/sso_refused.html", message=refusal.message), status


@bp.get("/sign-in/sso/<name>/callback")
def callback(name: str) -> ResponseReturnValue:
    chosen = provider(name)
    if chosen is None:
        abort(404)
    try:
        token = client(name).authorize_access_token()
        user = account_for(chosen, token.get("userinfo"))
    except MismatchingStateError:
        return _refused(
            name,
            SsoRefused("sso_state", "This sign-on answer was not for this browser: start again."),
        )
    except SsoRefused as refusal:
        return _refused(name, refusal)
    except SSO_ERRORS:
        return _refused(
            name, SsoRefused("sso_token", "The sign-on answer could not be trusted: start again.")
        )
    step = second_step(user)
    if step is not None:
        begin_pending(user, False, None)
        return for_this_device(
            user, redirect(url_for("two_factor.code" if step == "code" else "two_factor.set_up"))
        )
    complete_sign_in(user, False)
    db.session.commit()
    return for_this_device(user, redirect(url_for("web.index")))
