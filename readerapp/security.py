"""Hardening shared by every response: security headers, rate limits on secret-bearing
endpoints, and log lines that never carry secrets.

- Headers: set on every response (pages, errors, static files, feeds, the API) unless a view set
  its own. HSTS only when ``ENVIRONMENT`` is ``production``.
- Token endpoints: everything under /feeds/ and /api/ gets a per-address limit on *failed*
  attempts (a wrong or revoked token), so tokens cannot be guessed; successful polls are never
  counted. :func:`token_rate_limit` marks a token-taking view elsewhere.
- Logs: feed tokens travel in URL paths and API tokens in headers. Every log record, from any
  logger (werkzeug's and gunicorn's access logs included), is scrubbed of them before it is
  formatted, and access-log lines lose their query strings (search boxes may carry codes).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, abort, g, request

F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def register_security(app: Flask) -> None:
    """Install the header hook, the token-endpoint limits and the log scrubber."""

    production = app.config["ENVIRONMENT"] == "production"

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if production:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        # Pages for a signed-in user may show personal data: no copy in any cache. A user loaded
        # for this request is signed in (the loader refuses inactive accounts); asking
        # ``is_authenticated`` would reload the account after the request's commit.
        user = g.get("_login_user")
        if (
            user is not None
            and not getattr(user, "is_anonymous", True)
            and "Cache-Control" not in response.headers
        ):
            response.headers["Cache-Control"] = "no-store"
        return response

    limit_token_failures(app)
    install_log_scrubber()


# --- rate limits on token endpoints --------------------------------------------------------

# Paths whose URL or Authorization header carries a secret token.
TOKEN_PATH_PREFIXES = ("/feeds/", "/api/")
TOKEN_FAILURE_STATUSES = frozenset({401, 403, 404, 410})
_FAILURE_LIMITED_MARK = "_readerapp_limit_failures"


def token_rate_limit(view: F) -> F:
    """Mark a view outside /feeds/ and /api/ as taking a secret token, so failed attempts on it
    count towards the ``TOKEN_RATE_LIMIT`` of the client's address. Views under /feeds/ and
    /api/ are covered already and need nothing."""
    setattr(view, _FAILURE_LIMITED_MARK, True)
    return view


class TokenFailureLimiter:
    """Counts failed token attempts (401/403/404/410) per client address and answers 429 once
    ``TOKEN_RATE_LIMIT`` is reached. Successful requests are never counted, so a calendar
    client polling a valid feed, or many behind one address, is never refused.

    It keeps its own counters in ``RATELIMIT_STORAGE_URI`` and follows ``RATELIMIT_ENABLED``
    (read on each request) like the sign-in limit.
    """

    namespace = "token-failures"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._limiter: Any = None

    def _strategy(self) -> Any:
        if self._limiter is None:
            from limits.storage import storage_from_string
            from limits.strategies import MovingWindowRateLimiter

            storage = storage_from_string(self.app.config["RATELIMIT_STORAGE_URI"])
            self._limiter = MovingWindowRateLimiter(storage)
        return self._limiter

    def _applies(self) -> bool:
        if not self.app.config.get("RATELIMIT_ENABLED", True):
            return False
        if request.path.startswith(TOKEN_PATH_PREFIXES):
            return True
        view = self.app.view_functions.get(request.endpoint or "")
        return bool(getattr(view, _FAILURE_LIMITED_MARK, False))

    def _limit(self) -> Any:
        from limits import parse

        return parse(self.app.config["TOKEN_RATE_LIMIT"])

    def before_request(self) -> None:
        if self._applies() and not self._strategy().test(
            self._limit(), self.namespace, request.remote_addr or "unknown"
        ):
            abort(429)

    def after_request(self, response: Response) -> Response:
        if response.status_code in TOKEN_FAILURE_STATUSES and self._applies():
            self._strategy().hit(self._limit(), self.namespace, request.remote_addr or "unknown")
        return response


def limit_token_failures(app: Flask) -> TokenFailureLimiter:
    token_limiter = TokenFailureLimiter(app)
    app.before_request(token_limiter.before_request)
    app.after_request(token_limiter.after_request)
    app.extensions["readerapp.token_limiter"] = token_limiter
    return token_limiter


# --- log scrubbing ----------------------------------------------------------------------------

REDACTED = "[redacted]"
_SECRET_PATTERNS = (
    # A feed address: the token is in the path.
    (re.compile(r"(/feeds/)[^\s\"'<>]+"), r"\g<1>" + REDACTED),
    # Bearer tokens and token-like query or form parameters.
    (re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\g<1>" + REDACTED),
    (
        re.compile(r"(?i)\b((?:api_)?token|password|secret|key)=([^\s&\"']+)"),
        r"\g<1>=" + REDACTED,
    ),
)
# Access-log lines: drop query strings, which may carry search terms such as participant codes.
_ACCESS_LOGGERS = frozenset({"werkzeug", "gunicorn.access"})
_QUERY_STRING = re.compile(r"(\s/[^\s?\"]*)\?[^\s\"]*")


def scrub(text: str, access_log: bool = False) -> str:
    """``text`` with secrets (and, for access logs, query strings) replaced by [redacted]."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    if access_log:
        text = _QUERY_STRING.sub(r"\g<1>?" + REDACTED, text)
    return text


_previous_factory: Callable[..., logging.LogRecord] | None = None


def _scrubbing_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a malformed call is logging's problem to report, not ours
        return record
    cleaned = scrub(message, access_log=record.name in _ACCESS_LOGGERS)
    if cleaned != message:
        record.msg = cleaned
        record.args = None
    return record


def install_log_scrubber() -> None:
    """Scrub every log record in this process (idempotent)."""
    global _previous_factory
    if _previous_factory is not None:
        return
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_scrubbing_factory)
