"""Error pages in the site's style; problem+json for the API; plain text for feeds.

A 500 rolls the transaction back and never shows a stack trace or request data.
"""

from __future__ import annotations

import traceback

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..extensions import db

MESSAGES = {
    400: "The request could not be understood. Please check what you entered and try again.",
    403: "You do not have permission to see this page.",
    404: "We could not find that page. It may have moved, or the link may be wrong.",
    405: "That action is not allowed here.",
    413: "That upload is too large.",
    429: "Too many attempts. Please wait a few minutes and try again.",
    500: "Something went wrong on our side. It has been logged; please try again.",
}


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


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response:
        if error.code and error.code >= 500:
            db.session.rollback()
        return render_error(error)

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Response:
        db.session.rollback()
        # Where it happened, but not the message: it may carry personal data from the request.
        frames = "".join(traceback.format_list(traceback.extract_tb(error.__traceback__)))
        app.logger.error(
            "unhandled %s on %s %s\n%s", type(error).__name__, request.method, request.path, frames
        )
        return render_error(InternalServerError())
