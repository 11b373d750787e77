"""Settings: defaults here, overridden by ``instance/config.py``, then by the environment.

Environment variables are the setting's name prefixed with ``READERAPP_`` (``READERAPP_TIMEZONE``,
``READERAPP_MAIL_HOST``); ``DATABASE_URL`` and ``SECRET_KEY`` are also read without the prefix.
An unknown setting or an invalid value stops the start with a message saying which and why.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .dbguard import engine_options
from .timeutil import is_valid_zone

# How mail leaves (readerapp/notifications/transports.py).
MAIL_BACKENDS = ("auto", "smtp", "folder", "outbox")


class ConfigError(RuntimeError):
    """A setting is missing, unknown or invalid; the service refuses to start."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _address_list(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


REASON_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,39}")

# Fewer characters than this is a guessable token for a bearer secret.
METRICS_TOKEN_MIN_LENGTH = 16


# name -> (default, parser for environment strings)
SETTINGS: dict[str, tuple[Any, Any]] = {
    "SECRET_KEY": (None, str),
    "DATABASE_URL": (None, str),
    "TIMEZONE": ("Europe/London", str),
    # development relaxes the Secure cookie flag and HSTS; anything else is production
    "ENVIRONMENT": ("production", str),
    "BASE_URL": ("http://127.0.0.1:5000", str),
    "SCHEDULE_HORIZON_DAYS": (183, int),
    "FEED_WINDOW_BACK_DAYS": (92, int),
    "FEED_CANCELLED_KEEP_DAYS": (30, int),
    "MAIL_HOST": ("", str),
    "MAIL_PORT": (25, int),
    "MAIL_TLS": ("none", str),  # none | starttls | ssl
    "MAIL_USERNAME": ("", str),
    "MAIL_PASSWORD": ("", str),
    "MAIL_SENDER": ("readerapp@localhost", str),
    # How messages leave, decided when they are sent: auto (smtp when MAIL_HOST is set, else
    # outbox) | smtp | folder (one .eml file each in MAIL_FOLDER, for development) | outbox
    # (nothing leaves; they wait in the Outbox page until a sending backend is set).
    "MAIL_BACKEND": ("auto", str),
    "MAIL_FOLDER": ("", str),
    # How long a sender's claim on a message lasts. Longer than an SMTP conversation takes: when
    # it runs out the sender is taken for dead and the message is sent again (same Message-ID).
    "MAIL_LEASE_SECONDS": (300, int),
    # The scheduler process (readerapp/scheduler): how often it beats, looks for web changes,
    # rebuilds its jobs from the database, sweeps for due work, and (as a standby) retries the lock.
    "SCHEDULER_HEARTBEAT_SECONDS": (10, int),
    "SCHEDULER_CHANGE_POLL_SECONDS": (5, int),
    "SCHEDULER_RECONCILE_SECONDS": (60, int),
    "SCHEDULER_SWEEP_SECONDS": (60, int),
    "SCHEDULER_STANDBY_POLL_SECONDS": (5, int),
    "RETENTION_MONTHS": (24, int),
    # When a participant withdraws consent to evaluation, their past answers leave the reports
    # (remove) or stay in them (keep); no new answers are taken either way.
    "OUTCOMES_ON_WITHDRAWAL": ("remove", str),
    # Outcome answers and consent entries of people unseen (at a session or answering) for this
    # many months are deleted by the daily retention run.
    "OUTCOMES_RETENTION_MONTHS": (72, int),
    # Safeguarding concerns are kept this many months after they are closed (six years, as
    # safeguarding policies ask), then deleted by the daily retention run; open ones are kept.
    "CONCERN_RETENTION_MONTHS": (72, int),
    # Referrals: a referred person becomes "regular" after this many sessions attended; the
    # reasons a referral may give (machine words, comma-separated in the environment): a short
    # list of categories, never a free-text diagnosis.
    "REFERRAL_REGULAR_SESSIONS": (4, int),
    "REFERRAL_REASONS": (
        (
            "loneliness",
            "low_mood",
            "anxiety",
            "bereavement",
            "long_term_condition",
            "carer_support",
            "recovery",
            "other",
        ),
        _address_list,
    ),
    # Partners see counts of people below this as "fewer than N" (readerapp/disclosure.py).
    "SMALL_NUMBER_THRESHOLD": (5, int),
    # Where rate-limit counters live: memory:// counts in this process only (one gunicorn worker,
    # as `make run`); redis://HOST:6379 is shared by every worker and machine.
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    # Keeps this installation's counters apart from others sharing the same Redis.
    "RATELIMIT_KEY_PREFIX": ("readerapp", str),
    "SIGNIN_RATE_LIMIT": ("10 per 5 minutes", str),
    # failed feed/API token attempts per client address (successful polls are not counted)
    "TOKEN_RATE_LIMIT": ("30 per minute", str),
    # Staff accounts (readerapp/accounts): how long an invitation's and a password reset's
    # single-use link works.
    "INVITATION_DAYS": (7, int),
    "PASSWORD_RESET_MINUTES": (60, int),
    # "Forgot your password?" requests, counted per client address and per email asked about.
    "PASSWORD_RESET_RATE_LIMIT": ("5 per hour", str),
    # How long a sign-in lasts with "keep me signed in", and without it (a browser that is
    # closed forgets it sooner).
    "SIGN_IN_REMEMBER_DAYS": (30, int),
    "SIGN_IN_HOURS": (12, int),
    # Roles that must sign in with a second factor (TOTP); set up at their next sign-in.
    "TWO_FACTOR_REQUIRED_ROLES": (("admin", "manager"), _address_list),
    # Wrong two-factor codes, counted per client address and per account.
    "TWO_FACTOR_RATE_LIMIT": ("5 per 5 minutes", str),
    # Single sign-on (OpenID Connect): a list of providers, each a dict with name (used in the
    # address), label, issuer, client_id, client_secret and allowed_domains (a list). Staff
    # whose email matches an existing account sign in with them; no account is made this way.
    # In the environment: JSON.
    "SSO_PROVIDERS": ((), json.loads),
    "LOG_LEVEL": ("INFO", str),
    # Reverse proxies in front of the app that set X-Forwarded-For/-Proto (0: none, so those
    # headers are never believed).
    "TRUSTED_PROXIES": (0, int),
    # Bounded database waits, in seconds, so a database that is down, frozen or overloaded
    # answers 503 within seconds instead of holding requests: connecting (PostgreSQL), waiting
    # for a pooled connection, one statement of a request or job (PostgreSQL; 0 turns the bound
    # off; exports and migrations lift it for their own statements), waiting for another
    # writer's lock (SQLite).
    "DB_CONNECT_TIMEOUT": (3, int),
    "DB_POOL_TIMEOUT": (3.0, float),
    "DB_STATEMENT_TIMEOUT": (5.0, float),
    "SQLITE_BUSY_TIMEOUT": (5.0, float),
    # What a 503 tells clients (Retry-After) when the database is unavailable.
    "DB_RETRY_AFTER_SECONDS": (10, int),
    # text: Flask's plain lines; json: one JSON object per line (time, level, logger, message,
    # request id, method, endpoint, status, duration), for a log collector.
    "LOG_FORMAT": ("text", str),
    # GET /metrics (Prometheus). Closed unless at least one is set; when both are, both apply.
    # The token is sent as "Authorization: Bearer <token>"; addresses are IPs or CIDRs,
    # comma-separated in the environment.
    "METRICS_TOKEN": ("", str),
    "METRICS_ALLOWED_ADDRESSES": ((), _address_list),
    # Reader leaders' phones keep their next and last 14 days' sessions, log forms and
    # registers' codes for use with no signal, and queue logs until it returns. Off: no page is
    # kept, and devices clear what they kept at their next contact.
    "OFFLINE_MODE": (True, _bool),
    # Largest request body the API reads (its bodies are small records); larger answers 413.
    "API_MAX_BODY_BYTES": (1024 * 1024, int),
    # Reader leaders as a workforce (readerapp/workforce). The venues' setting types where
    # leading is regulated activity: a leader needs a current enhanced DBS check (barred list)
    # and the required training to lead or log there. None until an installation names them,
    # e.g. "acute_hospital,mental_health_inpatient,secure_hospital,prison,care_home".
    "WORKFORCE_REGULATED_SETTINGS": ((), _address_list),
    # The courses a training record may name, and those a regulated setting requires.
    "WORKFORCE_COURSES": (("leader_training", "leader_refresher", "safeguarding"), _address_list),
    "WORKFORCE_REQUIRED_TRAINING": (("leader_training",), _address_list),
    # Days before a check's or a course's renewal that the person and their manager are told.
    "WORKFORCE_REMINDER_DAYS": ((60, 30, 7), lambda v: tuple(int(d) for d in _address_list(v))),
    # Check records are deleted this many months after the person left.
    "WORKFORCE_CHECK_RETENTION_MONTHS": (6, int),
    # Hours: what an hour of a volunteer's time is worth in match-funding statements (pounds),
    # and the preparation and travel time added to each session (a group may set its own).
    "VOLUNTEER_HOURLY_RATE": (12.60, float),
    "WORKFORCE_PREPARATION_MINUTES": (30, int),
    "WORKFORCE_TRAVEL_MINUTES": (30, int),
}

# Flask's and its extensions' own settings may also be set in instance/config.py.
PASSTHROUGH_PREFIXES = (
    "SQLALCHEMY_",
    "SESSION_COOKIE_",
    "REMEMBER_COOKIE_",
    "WTF_",
    "RATELIMIT_",
    "PERMANENT_SESSION_",
    "API_",
    "OPENAPI_",
)
PASSTHROUGH_KEYS = {"TESTING", "DEBUG", "SERVER_NAME", "PREFERRED_URL_SCHEME", "MAX_CONTENT_LENGTH"}


def _check_known(source: str, keys: list[str]) -> None:
    for key in keys:
        if key in SETTINGS or key in PASSTHROUGH_KEYS or key.startswith(PASSTHROUGH_PREFIXES):
            continue
        known = ", ".join(sorted(SETTINGS))
        raise ConfigError(f"{source}: unknown setting {key!r}. Known settings: {known}")


def _read_instance_file(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    namespace: dict[str, Any] = {"__file__": str(path)}
    try:
        exec(compile(path.read_bytes(), str(path), "exec"), namespace)  # noqa: S102
    except Exception as exc:  # a broken config file must stop the start, clearly
        raise ConfigError(f"{path}: cannot be read: {exc}") from exc
    values = {k: v for k, v in namespace.items() if k.isupper()}
    _check_known(str(path), list(values))
    return values


def _read_environment(environ: dict[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for bare in ("DATABASE_URL", "SECRET_KEY"):
        if environ.get(bare):
            values[bare] = environ[bare]
    for key, raw in environ.items():
        if not key.startswith("READERAPP_"):
            continue
        name = key.removeprefix("READERAPP_")
        if name not in SETTINGS:
            _check_known(f"environment variable {key}", [name])
        if name not in SETTINGS:
            continue
        parser = SETTINGS[name][1]
        try:
            values[name] = _bool(raw) if parser is bool else parser(raw)
        except ValueError as exc:
            raise ConfigError(f"environment variable {key}: {exc}") from exc
    return values


def _secret_key(instance_path: Path) -> str:
    """The key from ``instance/secret_key``, generated once on first start (never committed)."""
    path = instance_path / "secret_key"
    if path.exists():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def database_uri(url: str | None, instance_path: Path) -> str:
    if not url:
        return f"sqlite:///{instance_path / 'readerapp.sqlite3'}"
    scheme = urlsplit(url).scheme
    if scheme in {"postgres", "postgresql", "postgresql+psycopg2"}:
        # SQLAlchemy 2.1 wants the driver spelled out; psycopg 3 is the one installed.
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if scheme in {"postgresql+psycopg", "sqlite"}:
        return url
    raise ConfigError(
        f"DATABASE_URL: unsupported database {scheme!r}; use sqlite:///PATH or postgresql+psycopg://…"
    )


def _validate(config: dict[str, Any]) -> None:
    if not is_valid_zone(config["TIMEZONE"]):
        raise ConfigError(
            f"TIMEZONE: unknown time zone {config['TIMEZONE']!r} (e.g. Europe/London)"
        )
    if config["MAIL_TLS"] not in {"none", "starttls", "ssl"}:
        raise ConfigError("MAIL_TLS: must be one of none, starttls, ssl")
    if config["MAIL_BACKEND"] not in MAIL_BACKENDS:
        raise ConfigError(f"MAIL_BACKEND: must be one of {', '.join(MAIL_BACKENDS)}")
    if config["MAIL_BACKEND"] == "smtp" and not config["MAIL_HOST"]:
        raise ConfigError("MAIL_BACKEND: smtp needs MAIL_HOST (the SMTP server)")
    if config["ENVIRONMENT"] not in {"development", "production", "testing"}:
        raise ConfigError("ENVIRONMENT: must be one of development, production, testing")
    for key in (
        "SCHEDULE_HORIZON_DAYS",
        "FEED_WINDOW_BACK_DAYS",
        "RETENTION_MONTHS",
        "OUTCOMES_RETENTION_MONTHS",
        "CONCERN_RETENTION_MONTHS",
        "REFERRAL_REGULAR_SESSIONS",
        "SMALL_NUMBER_THRESHOLD",
        "MAIL_LEASE_SECONDS",
        "API_MAX_BODY_BYTES",
        "INVITATION_DAYS",
        "PASSWORD_RESET_MINUTES",
        "SIGN_IN_REMEMBER_DAYS",
        "SIGN_IN_HOURS",
    ):
        if not isinstance(config[key], int) or config[key] <= 0:
            raise ConfigError(f"{key}: must be a positive whole number")
    _validate_limits(config)
    # libpq refuses a connect_timeout under 2 seconds (it would silently use 2).
    if isinstance(config["DB_CONNECT_TIMEOUT"], bool) or not (
        isinstance(config["DB_CONNECT_TIMEOUT"], int) and config["DB_CONNECT_TIMEOUT"] >= 2
    ):
        raise ConfigError("DB_CONNECT_TIMEOUT: must be a whole number of seconds, 2 or more")
    for key, least in (
        ("DB_POOL_TIMEOUT", 0.1),
        ("DB_STATEMENT_TIMEOUT", 0),
        ("SQLITE_BUSY_TIMEOUT", 0.1),
        ("DB_RETRY_AFTER_SECONDS", 1),
    ):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int | float) or value < least:
            raise ConfigError(f"{key}: must be a number of seconds, at least {least}")
    if config["OUTCOMES_ON_WITHDRAWAL"] not in {"remove", "keep"}:
        raise ConfigError("OUTCOMES_ON_WITHDRAWAL: must be one of remove, keep")
    if config["LOG_FORMAT"] not in {"text", "json"}:
        raise ConfigError("LOG_FORMAT: must be one of text, json")
    _validate_metrics(config)
    _validate_sso(config)
    _validate_workforce(config)
    if not config.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY: missing (set it in the environment or instance/config.py)")


SSO_FIELDS = ("name", "label", "issuer", "client_id", "client_secret", "allowed_domains")
SSO_NAME = re.compile(r"^[a-z0-9-]{1,40}$")


def _validate_sso(config: dict[str, Any]) -> None:
    providers = config["SSO_PROVIDERS"]
    if not isinstance(providers, (list, tuple)):
        raise ConfigError("SSO_PROVIDERS: must be a list of providers")
    names = set()
    for provider in providers:
        if not isinstance(provider, dict) or set(provider) != set(SSO_FIELDS):
            raise ConfigError(f"SSO_PROVIDERS: each provider needs exactly {', '.join(SSO_FIELDS)}")
        name = provider["name"]
        if not isinstance(name, str) or not SSO_NAME.match(name) or name in names:
            raise ConfigError(f"SSO_PROVIDERS: {name!r} is not a unique name of a-z, 0-9 and -")
        names.add(name)
        if urlsplit(str(provider["issuer"])).scheme not in {"http", "https"}:
            raise ConfigError(f"SSO_PROVIDERS: {name}: the issuer must be an http(s) address")
        domains = provider["allowed_domains"]
        if (
            not isinstance(domains, (list, tuple))
            or not domains
            or not all(isinstance(d, str) and d.strip() for d in domains)
        ):
            raise ConfigError(f"SSO_PROVIDERS: {name}: allowed_domains must list email domains")
        for key in ("label", "client_id", "client_secret"):
            if not isinstance(provider[key], str) or not provider[key]:
                raise ConfigError(f"SSO_PROVIDERS: {name}: {key} must be given")
    config["SSO_PROVIDERS"] = tuple(providers)


def _validate_workforce(config: dict[str, Any]) -> None:
    # Setting types are checked against the venues' list by readerapp.workforce at start.
    for key in ("WORKFORCE_REGULATED_SETTINGS", "WORKFORCE_COURSES", "WORKFORCE_REQUIRED_TRAINING"):
        value = config[key]
        config[key] = tuple(_address_list(value) if isinstance(value, str) else value)
    if not config["WORKFORCE_COURSES"]:
        raise ConfigError("WORKFORCE_COURSES: name at least one course")
    if set(config["WORKFORCE_REQUIRED_TRAINING"]) - set(config["WORKFORCE_COURSES"]):
        raise ConfigError("WORKFORCE_REQUIRED_TRAINING: every course must be in WORKFORCE_COURSES")
    days = config["WORKFORCE_REMINDER_DAYS"]
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in days):
        raise ConfigError("WORKFORCE_REMINDER_DAYS: must be positive whole numbers of days")
    config["WORKFORCE_REMINDER_DAYS"] = tuple(sorted(set(days), reverse=True))
    for key in (
        "WORKFORCE_CHECK_RETENTION_MONTHS",
        "WORKFORCE_PREPARATION_MINUTES",
        "WORKFORCE_TRAVEL_MINUTES",
    ):
        value = config[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{key}: must be a whole number, 0 or more")
    rate = config["VOLUNTEER_HOURLY_RATE"]
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
        raise ConfigError("VOLUNTEER_HOURLY_RATE: must be an amount in pounds, 0 or more")


RATELIMIT_SCHEMES = ("memory", "redis", "rediss")


def _validate_limits(config: dict[str, Any]) -> None:
    from limits import parse

    scheme = urlsplit(str(config["RATELIMIT_STORAGE_URI"])).scheme
    if scheme not in RATELIMIT_SCHEMES:
        raise ConfigError(
            "RATELIMIT_STORAGE_URI: use memory:// (one process) or redis://HOST:6379 "
            f"(shared by every worker), not {config['RATELIMIT_STORAGE_URI']!r}"
        )
    roles = config["TWO_FACTOR_REQUIRED_ROLES"]
    if isinstance(roles, str):
        roles = _address_list(roles)
    known = ("admin", "manager", "reader_leader", "partner_viewer")
    if not isinstance(roles, (list, tuple)) or any(role not in known for role in roles):
        raise ConfigError(f"TWO_FACTOR_REQUIRED_ROLES: a list of roles among {', '.join(known)}")
    config["TWO_FACTOR_REQUIRED_ROLES"] = tuple(roles)
    for key in (
        "SIGNIN_RATE_LIMIT",
        "TOKEN_RATE_LIMIT",
        "PASSWORD_RESET_RATE_LIMIT",
        "TWO_FACTOR_RATE_LIMIT",
    ):
        try:
            parse(str(config[key]))
        except ValueError:
            raise ConfigError(
                f"{key}: not a rate limit: {config[key]!r} (e.g. '10 per 5 minutes')"
            ) from None
    proxies = config["TRUSTED_PROXIES"]
    if not isinstance(proxies, int) or isinstance(proxies, bool) or proxies < 0:
        raise ConfigError("TRUSTED_PROXIES: must be a whole number, 0 when not behind a proxy")


def _validate_metrics(config: dict[str, Any]) -> None:
    token = config["METRICS_TOKEN"]
    if not isinstance(token, str) or (token and len(token) < METRICS_TOKEN_MIN_LENGTH):
        raise ConfigError(
            f"METRICS_TOKEN: must be empty (no token) or at least {METRICS_TOKEN_MIN_LENGTH} "
            "characters"
        )
    reasons = config["REFERRAL_REASONS"]
    if (
        isinstance(reasons, str)
        or not reasons
        or not all(isinstance(r, str) and REASON_PATTERN.fullmatch(r) for r in reasons)
    ):
        raise ConfigError(
            "REFERRAL_REASONS: must be a list of short words (a-z, 0-9, _; up to 40 each)"
        )
    config["REFERRAL_REASONS"] = tuple(reasons)
    addresses = config["METRICS_ALLOWED_ADDRESSES"]
    if isinstance(addresses, str):
        addresses = _address_list(addresses)
    if not isinstance(addresses, (list, tuple)):
        raise ConfigError("METRICS_ALLOWED_ADDRESSES: must be a list of addresses or CIDRs")
    for entry in addresses:
        try:
            ipaddress.ip_network(str(entry).strip(), strict=False)
        except ValueError:
            raise ConfigError(
                f"METRICS_ALLOWED_ADDRESSES: {entry!r} is not an IP address or CIDR "
                "(e.g. 10.0.0.5 or 10.0.0.0/24)"
            ) from None
    config["METRICS_ALLOWED_ADDRESSES"] = tuple(str(entry).strip() for entry in addresses)


def load(
    instance_path: Path, overrides: dict[str, Any] | None, environ: dict[str, str] | None = None
) -> dict[str, Any]:
    """Build the settings: defaults, then instance/config.py, then environment, then overrides."""
    environ = dict(os.environ if environ is None else environ)
    overrides = dict(overrides or {})
    testing = bool(overrides.get("TESTING"))
    config: dict[str, Any] = {name: default for name, (default, _) in SETTINGS.items()}
    if not testing:
        config.update(_read_instance_file(instance_path / "config.py"))
    config.update(_read_environment(environ))
    _check_known("create_app(config)", list(overrides))
    config.update(overrides)
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _secret_key(instance_path)
    _validate(config)
    config.setdefault(
        "SQLALCHEMY_DATABASE_URI", database_uri(config["DATABASE_URL"], instance_path)
    )
    development = config["ENVIRONMENT"] == "development"
    config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    config.setdefault("SESSION_COOKIE_SECURE", not development and not testing)
    config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    config.setdefault("REMEMBER_COOKIE_SAMESITE", "Lax")
    config.setdefault("REMEMBER_COOKIE_SECURE", not development and not testing)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(config)
    config.setdefault("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)
    if urlsplit(config["RATELIMIT_STORAGE_URI"]).scheme != "memory":
        # A Redis that stops answering must not hold requests until gunicorn kills the worker.
        config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"socket_timeout": 2, "socket_connect_timeout": 2}
        )
    return config
