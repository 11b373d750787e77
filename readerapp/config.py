"""Settings: defaults here, overridden by ``instance/config.py``, then by the environment.

Environment variables are the setting's name prefixed with ``READERAPP_`` (``READERAPP_TIMEZONE``,
``READERAPP_MAIL_HOST``); ``DATABASE_URL`` and ``SECRET_KEY`` are also read without the prefix.
An unknown setting or an invalid value stops the start with a message saying which and why.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .timeutil import is_valid_zone


class ConfigError(RuntimeError):
    """A setting is missing, unknown or invalid; the service refuses to start."""


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


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
    # The scheduler process (readerapp/scheduler): how often it beats, looks for web changes,
    # rebuilds its jobs from the database, sweeps for due work, and (as a standby) retries the lock.
    "SCHEDULER_HEARTBEAT_SECONDS": (10, int),
    "SCHEDULER_CHANGE_POLL_SECONDS": (5, int),
    "SCHEDULER_RECONCILE_SECONDS": (60, int),
    "SCHEDULER_SWEEP_SECONDS": (60, int),
    "SCHEDULER_STANDBY_POLL_SECONDS": (5, int),
    "RETENTION_MONTHS": (24, int),
    "RATELIMIT_STORAGE_URI": ("memory://", str),
    "SIGNIN_RATE_LIMIT": ("10 per 5 minutes", str),
    # failed feed/API token attempts per client address (successful polls are not counted)
    "TOKEN_RATE_LIMIT": ("30 per minute", str),
    "LOG_LEVEL": ("INFO", str),
    # Largest request body the API reads (its bodies are small records); larger answers 413.
    "API_MAX_BODY_BYTES": (1024 * 1024, int),
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
    if config["ENVIRONMENT"] not in {"development", "production", "testing"}:
        raise ConfigError("ENVIRONMENT: must be one of development, production, testing")
    for key in (
        "SCHEDULE_HORIZON_DAYS",
        "FEED_WINDOW_BACK_DAYS",
        "RETENTION_MONTHS",
        "API_MAX_BODY_BYTES",
    ):
        if not isinstance(config[key], int) or config[key] <= 0:
            raise ConfigError(f"{key}: must be a positive whole number")
    if not config.get("SECRET_KEY"):
        raise ConfigError("SECRET_KEY: missing (set it in the environment or instance/config.py)")


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
    config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})
    config.setdefault("MAX_CONTENT_LENGTH", 8 * 1024 * 1024)
    return config
