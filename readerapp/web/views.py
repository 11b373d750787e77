from __future__ import annotations

from flask import Blueprint, current_app, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    """Each role lands where its work is (the domains register where: ``register_landing``);
    people who lead or run sessions land on their sessions."""
    if not current_user.is_authenticated:
        return redirect(url_for("auth.sign_in"))
    for landing in current_app.extensions.get("readerapp.landings", []):
        where = landing.where(current_user)
        if where is not None:
            return redirect(where)
    return redirect(url_for("sessions.dashboard"))
