from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("sessions.dashboard"))
    return redirect(url_for("auth.sign_in"))
