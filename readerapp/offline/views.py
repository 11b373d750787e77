"""The service worker, the web app manifest and the list of pages kept offline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, jsonify, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from flask_wtf.csrf import generate_csrf

from ..access import may_keep_pages_offline, require
from ..timeutil import utcnow
from .queries import kept_session_ids

bp = Blueprint("offline", __name__)

SERVICE_WORKER = Path(__file__).parent / "sw.js"
# What every kept page needs besides itself.
STATIC_FILES = (
    "css/app.css",
    "js/sessions.js",
    "js/offline.js",
    "js/offline-queue.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/icon.svg",
)
THEME_COLOUR = "#1d4e89"


def offline_mode() -> bool:
    """Whether this request's pages tell the device to keep them (the setting, and the role)."""
    return bool(current_app.config["OFFLINE_MODE"]) and may_keep_pages_offline(current_user)


@bp.app_context_processor
def _offline_context() -> dict[str, Any]:
    # "on": a reader leader's page, kept; "off": a reader leader's page with offline mode
    # switched off, so the device sends what it queued and forgets the rest; "": no script
    # (signed out, where a queue waits for the next sign-in, or another role, whose sign-in
    # cleared the device: see users.views.sign_in).
    if not may_keep_pages_offline(current_user):
        return {"offline_state": ""}
    return {"offline_state": "on" if offline_mode() else "off"}


@bp.get("/sw.js")
def service_worker() -> ResponseReturnValue:
    # Served from the root so that its scope is the whole site; always checked for updates.
    response = send_file(SERVICE_WORKER, mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/manifest.webmanifest")
def manifest() -> ResponseReturnValue:
    icons = [
        {"src": url_for("static", filename=f"icons/icon-{size}.png"), "sizes": f"{size}x{size}"}
        | {"type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ]
    icons.append(
        {
            "src": url_for("static", filename="icons/icon.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
        }
    )
    body = {
        "name": "readerapp — my sessions",
        "short_name": "readerapp",
        "description": "Log Shared Reading sessions, with or without a signal.",
        "start_url": url_for("sessions.dashboard"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": icons,
    }
    response = jsonify(body)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/offline/pages.json")
@login_required
def pages() -> ResponseReturnValue:
    """The pages this leader's device keeps, and a fresh form token for sending queued logs
    (the one in a kept page may have run out). With offline mode switched off it lists no
    page: the device sends what it still holds, then forgets it."""
    require(may_keep_pages_offline(current_user))
    if not offline_mode():
        return jsonify({"pages": [], "csrf_token": generate_csrf(), "user": current_user.id})
    urls = [url_for("sessions.dashboard")]
    for session_id in kept_session_ids(current_user, utcnow()):
        urls.append(url_for("logbook.detail", session_id=session_id))
        urls.append(url_for("logbook.log", session_id=session_id))
    urls += [url_for("static", filename=name) for name in STATIC_FILES]
    urls.append(url_for("offline.manifest"))
    return jsonify({"pages": urls, "csrf_token": generate_csrf(), "user": current_user.id})
