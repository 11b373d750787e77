"""The steps of signing in: a password checked, perhaps a second factor, then the sign-in.

Between the password and the second factor, the browser's session holds only who is signing in
(``pending``), for a few minutes; nobody counts as signed in until the last step.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from flask import Response, current_app, request, session
from flask_login import login_user

from ..access import may_keep_pages_offline
from ..extensions import db
from ..security import client_address
from ..users.auth import clear_device
from ..users.models import User
from ..users.operations import start_sign_in
from ..users.two_factor import required_for

PENDING = "pending_sign_in"
# How long the second step may take after the password.
PENDING_SECONDS = 600


def sign_in_lasts(remember: bool) -> timedelta:
    """How long a sign-in counts: "keep me signed in" up to SIGN_IN_REMEMBER_DAYS, otherwise
    SIGN_IN_HOURS (the browser forgets it sooner if closed)."""
    if remember:
        return timedelta(days=int(current_app.config["SIGN_IN_REMEMBER_DAYS"]))
    return timedelta(hours=int(current_app.config["SIGN_IN_HOURS"]))


def complete_sign_in(user: User, remember: bool) -> None:
    """Record the sign-in and put it in the browser's session (and remember cookie)."""
    session.pop(PENDING, None)
    start_sign_in(
        user,
        remember=remember,
        lasts=sign_in_lasts(remember),
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=client_address(),
    )
    login_user(user, remember=remember, duration=sign_in_lasts(remember))


def second_step(user: User) -> str | None:
    """What the user must do after their password: "code", "set_up", or nothing."""
    if user.totp_enabled_at is not None:
        return "code"
    if required_for(user, current_app.config["TWO_FACTOR_REQUIRED_ROLES"]):
        return "set_up"
    return None


def begin_pending(user: User, remember: bool, next_url: str | None) -> None:
    session[PENDING] = {
        "user_id": user.id,
        "generation": user.session_generation,
        "remember": remember,
        "next": next_url,
        "since": int(time.time()),
    }


def pending() -> tuple[User, dict[str, Any]] | None:
    """The user between their password and their second factor, while the step lasts."""
    state = session.get(PENDING)
    if not isinstance(state, dict) or time.time() - state.get("since", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, state.get("user_id"))
    if user is None or not user.active or user.session_generation != state.get("generation"):
        return None
    return user, state


def for_this_device(user: User, response: Response) -> Response:
    """A phone shared with a reader leader keeps nothing for any other role: their sign-in
    (at its first step, before any second factor) clears what the device kept."""
    return response if may_keep_pages_offline(user) else clear_device(response)
