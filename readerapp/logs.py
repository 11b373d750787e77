"""Log lines: a request id for every request, one line per finished request, and (with
``LOG_FORMAT = "json"``) one JSON object per line.

Every line logged while a request is handled carries its request id, method and Flask endpoint
name — never its path or query string: feed paths carry secret tokens and search boxes may carry
participant codes. The request id is ours (a fresh UUID) unless the request arrives with an
``X-Request-ID`` shaped like one (from a proxy in front); either way it goes back to the client
as the ``X-Request-ID`` response header.

Messages are scrubbed of secrets by :mod:`readerapp.security` when each record is made; the JSON
formatter scrubs again, so a record made before the scrubber was installed is covered too.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from datetime import UTC, datetime
from typing import Any

from flask import Flask, Response, has_request_context, request
from flask.logging import default_handler

from .security import scrub

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a proxy's id only when it is a UUID or 32 hex digits (nginx's $request_id): nothing a
# client writes there can then inject text, or personal data, into our logs.
_WELL_FORMED_ID = re.compile(
    r"\A(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
    r"[0-9a-fA-F]{12})\Z"
)
ENVIRON_REQUEST_ID = "readerapp.request_id"
ENVIRON_STARTED = "readerapp.started"
UNMATCHED = "unmatched"  # the endpoint of a request that matched no route (404, 405)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

request_log = logging.getLogger("readerapp.request")


def request_id_for(header: str | None) -> str:
    if header and _WELL_FORMED_ID.match(header):
        return header  # as the proxy logged it
    return uuid.uuid4().hex


class RequestStart:
    """WSGI middleware: the request's id and start time, before any Flask hook runs (so the
    duration includes them, and their log lines carry the id)."""

    def __init__(self, wsgi_app: Any) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        environ[ENVIRON_STARTED] = time.perf_counter()
        environ[ENVIRON_REQUEST_ID] = request_id_for(environ.get("HTTP_X_REQUEST_ID"))
        return self.wsgi_app(environ, start_response)


def method_name() -> str:
    """The request's method, or OTHER: a client may send any word there."""
    return request.method if request.method in KNOWN_METHODS else "OTHER"


def endpoint_name() -> str:
    return request.endpoint or UNMATCHED


def current_request_fields() -> dict[str, Any]:
    if not has_request_context():
        return {}
    return {
        "request_id": request.environ.get(ENVIRON_REQUEST_ID),
        "method": method_name(),
        "endpoint": endpoint_name(),
    }


def request_duration() -> float:
    started = request.environ.get(ENVIRON_STARTED)
    return time.perf_counter() - started if started is not None else 0.0


class RequestFields(logging.Filter):
    """Adds the current request's id, method and endpoint to every record (none outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current_request_fields().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line. Tracebacks keep their frames but not the exception's message,
    which may quote request data."""

    FIELDS = ("request_id", "method", "endpoint", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "process": record.process,
        }
        for key in self.FIELDS:
            value = getattr(record, key, None)
            if value is not None:
                line[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            kind, _, tb = record.exc_info
            line["exception"] = kind.__name__
            line["traceback"] = scrub("".join(traceback.format_list(traceback.extract_tb(tb))))
        return json.dumps(line, ensure_ascii=False, default=str)


_JSON_HANDLER_MARK = "_readerapp_json"


def _json_handler() -> logging.Handler:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestFields())
    setattr(handler, _JSON_HANDLER_MARK, True)
    return handler


def use_json_lines() -> None:
    """Every log line of this process as JSON on stderr (idempotent)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _JSON_HANDLER_MARK, False):
            root.removeHandler(handler)
    root.addHandler(_json_handler())
    # The app's records reach the root handler instead of Flask's plain one.
    logging.getLogger("readerapp").removeHandler(default_handler)
    # Under gunicorn its own lines (which do not propagate) take the same form.
    for handler in logging.getLogger("gunicorn.error").handlers:
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestFields())


def configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    logging.getLogger("readerapp").setLevel(level)
    app.logger.setLevel(level)
    if app.config["LOG_FORMAT"] == "json":
        use_json_lines()
    app.wsgi_app = RequestStart(app.wsgi_app)  # type: ignore[method-assign]

    @app.after_request
    def _log_request(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request.environ.get(ENVIRON_REQUEST_ID, "")
        duration_ms = round(request_duration() * 1000, 1)
        request_log.info(
            "%s %s %s %.1fms",
            method_name(),
            endpoint_name(),
            response.status_code,
            duration_ms,
            extra={"status": response.status_code, "duration_ms": duration_ms},
        )
        return response
