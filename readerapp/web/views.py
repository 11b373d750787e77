from __future__ import annotations

from flask import Blueprint, current_app, redirect, send_from_directory, url_for
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


@bp.get("/favicon.ico")
def favicon() -> ResponseReturnValue:
    # Browsers and feed readers ask for this path whatever the page links to.
    return send_from_directory(
        current_app.static_folder or "static",
        "favicon.ico",
        mimetype="image/vnd.microsoft.icon",
        max_age=86400,
    )
