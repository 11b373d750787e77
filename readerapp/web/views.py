from __future__ import annotations

from flask import Blueprint, current_app, redirect, send_from_directory, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

bp = Blueprint("web", __name__)


@bp.get("/")
def index() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("sessions.dashboard"))
    return redirect(url_for("auth.sign_in"))


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    # Browsers and feed readers ask for this path whatever the page links to.
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=86400,
    )
