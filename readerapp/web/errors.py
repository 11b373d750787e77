"""Error pages in the site's style; problem+json for the API; plain text for feeds.

A 500 rolls the transaction back and never shows a stack trace or request data. A database that
cannot serve (down, frozen, overloaded, locked) is a 503 with Retry-After, not a 500; a change
that clashed with someone else's (a stale version) is the conflict answer: 409, or 412 on the API.
"""

from __future__ import annotations

import contextlib
import traceback

from flask import Flask, Response, g, jsonify, render_template, request
from flask_login import AnonymousUserMixin
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from ..dbguard import is_unavailable
from ..errors import VersionConflict
from ..extensions import db

MESSAGES = {
    400: "The request could not be understood. Please check what you entered and try again.",
    403: "You do not have permission to see this page.",
    404: "We could not find that page. It may have moved, or the link may be wrong.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
    503: "The service cannot reach its records just now. Please wait a moment and try again; "
    "nothing you sent has been saved.",
}
CONFLICT_MESSAGE = (
    "Someone else changed this while you were working on it, so your change was not saved. "
    "Go back, reload the page to see their change, and make yours again."
)
API_CONFLICT_DETAIL = (
    "The resource changed since you read it: read it again and resend with its new ETag."
)
API_UNAVAILABLE_DETAIL = "The database is unavailable just now; retry after the time given."


def _problem(status: int, title: str, detail: str) -> Response:
    response = jsonify(type="about:blank", title=title, status=status, detail=detail)
    response.status_code = status
    response.content_type = "application/problem+json"
    return response


def render_error(error: HTTPException) -> Response:
    status = error.code or 500
    title = error.name
    detail = MESSAGES.get(status, error.description or title)
    if request.path.startswith("/api/"):
        return _problem(status, title, error.description or detail)
    if request.path.startswith("/feeds/"):
        return Response(f"{status} {title}\n", status=status, content_type="text/plain")
    html = render_template("errors/error.html", status=status, title=title, message=detail)
    response = Response(html, status=status)
    if status == 429 and error.get_response().headers.get("Retry-After"):
        response.headers["Retry-After"] = error.get_response().headers["Retry-After"]
    return response


def _rollback_quietly() -> None:
    """End the transaction of a request whose database has failed; the failure may repeat."""
    # If the connection is gone, the pool discards it; nothing more to do here.
    with contextlib.suppress(Exception):
        db.session.rollback()


def unavailable_response(retry_after: int) -> Response:
    status, retry = 503, str(retry_after)
    if request.path.startswith("/api/"):
        response = _problem(status, "Service Unavailable", API_UNAVAILABLE_DETAIL)
    elif request.path.startswith("/feeds/"):
        response = Response(
            f"{status} Service Unavailable\n", status=status, content_type="text/plain"
        )
    else:
        # No signed-in user: loading one would ask the database that just failed.
        g._login_user = AnonymousUserMixin()
        html = render_template(
            "errors/error.html",
            status=status,
            title="Service unavailable",
            message=MESSAGES[status],
        )
        response = Response(html, status=status)
    response.headers["Retry-After"] = retry
    return response


def conflict_response() -> Response:
    if request.path.startswith("/api/"):
        return _problem(412, "Precondition Failed", API_CONFLICT_DETAIL)
    if request.path.startswith("/feeds/"):
        return Response("409 Conflict\n", status=409, content_type="text/plain")
    html = render_template(
        "errors/error.html", status=409, title="Changed by someone else", message=CONFLICT_MESSAGE
    )
    return Response(html, status=409)


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code and error.code >= 500:
            db.session.rollback()
        return render_error(error)

    @app.errorhandler(sa_exc.OperationalError)
    @app.errorhandler(sa_exc.InterfaceError)
    @app.errorhandler(sa_exc.TimeoutError)
    def database_failed(error: Exception) -> Response:
        if not is_unavailable(error):
            return unexpected(error)
        _rollback_quietly()
        # The kind of failure and the route only: the message may quote the statement's
        # parameters, and a feed's path carries its secret token.
        app.logger.warning(
            "database unavailable (%s) on %s %s",
            type(error).__name__,
            request.method,
            request.url_rule.rule if request.url_rule else "(no route)",
        )
        return unavailable_response(int(app.config["DB_RETRY_AFTER_SECONDS"]))

    # Form saves answer a stale version themselves, keeping the input (web/saving.py); this is
    # the last resort for one that surfaces elsewhere (a flush outside a save, a job).
    @app.errorhandler(StaleDataError)
    @app.errorhandler(VersionConflict)
    def changed_meanwhile(error: Exception) -> Response:
        _rollback_quietly()
        return conflict_response()

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        db.session.rollback()
        # Where it happened, but not the message: it may carry personal data from the request.
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        app.logger.error(
            "unhandled %s on %s %s\n%s", type(error).__name__, request.method, request.path, frames
        )
        return render_error(InternalServerError())
