"""Hardening shared by every response: security headers, rate limits on secret-bearing
endpoints, and log lines that never carry secrets.

- Headers: set on every response (pages, errors, static files, feeds, the API) unless a view set
  its own. HSTS only when ``ENVIRONMENT`` is ``production``.
- Failed attempts: sign-in, and everything under /feeds/ and /api/, get a per-address limit on
  *failed* attempts (a wrong password, a wrong or revoked token), so neither can be guessed;
  successful attempts are never counted and a valid token is never refused.
  :func:`token_rate_limit` marks a token-taking view elsewhere. Counters live in
  ``RATELIMIT_STORAGE_URI``: Redis when several workers or machines serve the site.
- Logs: feed tokens travel in URL paths and API tokens in headers. Every log record, from any
  logger (werkzeug's and gunicorn's access logs included), is scrubbed of them before it is
  formatted, and access-log lines lose their query strings (search boxes may carry codes).
"""

from __future__ import annotations

import contextlib
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, make_response, request
from werkzeug.exceptions import TooManyRequests

F = TypeVar("F", bound=Callable[..., Any])

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
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


# --- limits on failed attempts: sign-in and token endpoints ---------------------------------

# Paths whose URL or Authorization header carries a secret token.
TOKEN_PATH_PREFIXES = ("/feeds/", "/api/")
TOKEN_FAILURE_STATUSES = frozenset({401, 403, 404, 410})
_FAILURE_LIMITED_MARK = "_readerapp_limit_failures"
_TOKEN_ACCEPTED = "_readerapp_token_accepted"  # noqa: S105  (a g attribute name)
EXTENSION = "readerapp.failure_limits"

logger = logging.getLogger(__name__)


def token_rate_limit(view: F) -> F:
    """Mark a view outside /feeds/ and /api/ as taking a secret token, so failed attempts on it
    count towards the ``TOKEN_RATE_LIMIT`` of the client's address. Views under /feeds/ and
    /api/ are covered already; every such view calls :func:`token_accepted` once its token is
    found valid."""
    setattr(view, _FAILURE_LIMITED_MARK, True)
    return view


def token_accepted() -> None:
    """This request's token is valid: it is answered whatever other attempts from its address
    did, and whatever it answers (a 404 for a missing id) is not counted as a failed attempt."""
    g.setdefault(_TOKEN_ACCEPTED, True)


def client_address() -> str:
    """The client's address: the peer's, or behind ``TRUSTED_PROXIES`` the one they forwarded
    (ProxyFix has rewritten ``remote_addr`` by then)."""
    return request.remote_addr or "unknown"


class FailureLimits:
    """Fixed-window counters of failed attempts per client address, kept in
    ``RATELIMIT_STORAGE_URI`` under ``RATELIMIT_KEY_PREFIX``.

    Each decision is one atomic increment whose result decides, so a limit of N answers
    exactly N attempts however many threads, workers or machines share the storage (a test
    before the attempt and a deduction after it, as Flask-Limiter's ``deduct_when`` does, lets
    concurrent attempts through together). With Redis the increment is a server-side script;
    limits' memory storage guards each key with a lock it creates and drops unguarded, so here
    one process-wide lock serialises its few-microsecond updates.

    Follows ``RATELIMIT_ENABLED``, read on each request. If the storage cannot be reached the
    attempt is let through and a warning logged: the site stays up without its limits.
    """

    def __init__(self, app: Flask) -> None:
        from limits.storage import storage_from_string

        self.app = app
        uri = app.config["RATELIMIT_STORAGE_URI"]
        self.storage: Any = storage_from_string(
            uri, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})
        )
        self.prefix = app.config["RATELIMIT_KEY_PREFIX"]
        self._lock: Any = (
            threading.Lock() if uri.startswith("memory:") else contextlib.nullcontext()
        )

    @property
    def enabled(self) -> bool:
        return bool(self.app.config.get("RATELIMIT_ENABLED", True))

    def _item(self, setting: str) -> Any:
        from limits import parse

        return parse(self.app.config[setting])

    def key(self, scope: str, address: str) -> str:
        return f"{self.prefix}/failures/{scope}/{address}"

    def _incr(self, setting: str, scope: str, address: str, amount: int) -> int | None:
        item = self._item(setting)
        try:
            with self._lock:
                return int(self.storage.incr(self.key(scope, address), item.get_expiry(), amount))
        except self.storage.base_exceptions as exc:
            # The error's name only: its text could quote a key, which holds an address.
            logger.warning(
                "rate-limit storage unavailable (%s): %s not limited", type(exc).__name__, scope
            )
            return None

    def count(self, setting: str, scope: str, address: str) -> bool:
        """Count one failed (or reserved) attempt; False once it is beyond the limit."""
        total = self._incr(setting, scope, address, 1)
        return total is None or total <= self._item(setting).amount

    def refund(self, setting: str, scope: str, address: str) -> None:
        """Give back a reserved attempt that turned out not to fail."""
        self._incr(setting, scope, address, -1)

    def retry_after(self, scope: str, address: str) -> int:
        """Whole seconds until the address's window for ``scope`` ends (at least 1)."""
        try:
            expiry = float(self.storage.get_expiry(self.key(scope, address)))
        except self.storage.base_exceptions:
            return 60
        return max(1, math.ceil(expiry - time.time()))


def failure_limits() -> FailureLimits:
    return current_app.extensions[EXTENSION]


def too_many(scope: str, address: str) -> TooManyRequests:
    seconds = failure_limits().retry_after(scope, address)
    return TooManyRequests(
        f"Too many failed attempts from this address: try again in {seconds} seconds.",
        retry_after=seconds,
    )


def limit_failed_attempts(
    setting: str,
    scope: str,
    failed: Callable[[Response], bool],
    methods: tuple[str, ...] = ("POST",),
) -> Callable[[F], F]:
    """Limit a view's failed attempts per address to the limit in setting ``setting``.

    The attempt takes its place in the count before the view runs, so once the limit is
    reached nothing more is tried (even a right password waits for the window to pass), and
    concurrent attempts cannot overtake it; an attempt that did not fail gives its place back.
    """

    def decorator(view: F) -> F:
        @wraps(view)
        def limited(*args: Any, **kwargs: Any) -> Any:
            limits = failure_limits()
            if request.method not in methods or not limits.enabled:
                return view(*args, **kwargs)
            address = client_address()
            if not limits.count(setting, scope, address):
                raise too_many(scope, address)
            refund = True
            try:
                response = make_response(view(*args, **kwargs))
                refund = not failed(response)
            finally:
                if refund:
                    limits.refund(setting, scope, address)
            return response

        return limited  # type: ignore[return-value]

    return decorator


def _is_token_endpoint(app: Flask) -> bool:
    if request.path.startswith(TOKEN_PATH_PREFIXES):
        return True
    view = app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, _FAILURE_LIMITED_MARK, False))


def _refusal(error: TooManyRequests) -> Response:
    from .web.errors import render_error

    response = render_error(error)
    retry_after = error.get_response().headers.get("Retry-After")
    if retry_after:
        response.headers["Retry-After"] = retry_after
    response.headers["Cache-Control"] = "no-store"
    return response


def limit_token_failures(app: Flask) -> FailureLimits:
    """Count failed token attempts; answer 429 instead once the address is beyond
    ``TOKEN_RATE_LIMIT``. The count is taken after the token has been checked: a valid token is
    never refused, however many guesses come from its address (a hospital's or a prison's
    shared address, say), and the guesser is refused each further failed attempt."""
    limits = FailureLimits(app)
    app.extensions[EXTENSION] = limits

    @app.after_request
    def _count_token_failure(response: Response) -> Response:
        if (
            response.status_code not in TOKEN_FAILURE_STATUSES
            or g.get(_TOKEN_ACCEPTED)
            or not limits.enabled
            or not _is_token_endpoint(app)
        ):
            return response
        address = client_address()
        if limits.count("TOKEN_RATE_LIMIT", "token", address):
            return response
        return _refusal(too_many("token", address))

    return limits


# --- log scrubbing ----------------------------------------------------------------------------

REDACTED = "[redacted]"
_SECRET_PATTERNS = (
    # A feed address: the token is in the path.
    (re.compile(r"(/feeds/)[^\s\"'<>]+"), r"\g<1>" + REDACTED),
    # An invitation's or a password reset's single-use link: the secret is in the path.
    (re.compile(r"(/(?:invitation|reset-password)/)[^\s\"'<>/?]+"), r"\g<1>" + REDACTED),
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
