"""readerapp: groups, sessions, attendance, radio and partner feeds for Shared Reading."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, request

from . import config as settings
from .db import include_object, render_item, sqlite_read_only, view_reads_first
from .dbguard import install_watchdog
from .extensions import csrf, db, limiter, login_manager, migrate
from .security import register_security

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application. ``config`` overrides every other source (tests use it)."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(settings.load(Path(app.instance_path), config))
    configure_logging(app)
    register_metrics(app)
    register_extensions(app)
    register_request_hooks(app)
    register_template_filters(app)
    register_blueprints(app)
    register_commands(app)
    register_security(app)
    trust_proxies(app)
    return app


def trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXIES`` reverse proxies, take the client's address and scheme from
    the X-Forwarded-For/-Proto headers they set (the limits count per client address). With
    0, the default, those headers are ignored: anyone could forge them. The Host header is
    passed through by the proxy, so X-Forwarded-Host is never believed."""
    proxies = app.config["TRUSTED_PROXIES"]
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]


def configure_logging(app: Flask) -> None:
    from .logs import configure_logging as configure

    configure(app)


def register_metrics(app: Flask) -> None:
    # Before the extensions: its after-request hook must run last, to count the final status.
    from .metrics import init_app

    init_app(app)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table known before the engine is used)

    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=str(MIGRATIONS_DIR),
        include_object=include_object,
        render_item=render_item,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    from .users import auth  # noqa: F401  (registers the user loader)

    with app.app_context():
        for engine in db.engines.values():
            install_watchdog(
                engine,
                float(app.config["DB_STATEMENT_TIMEOUT"]),
                ping_timeout=float(app.config["DB_CONNECT_TIMEOUT"]),
            )


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _mark_read_only() -> None:
        # SQLite: reads begin deferred so they never queue behind writers; so do the checks of
        # a write view marked ``reads_first``, until it calls ``begin_writing()``.
        read_only = request.method in READ_ONLY_METHODS or view_reads_first(
            app.view_functions.get(request.endpoint or ""), request.method
        )
        sqlite_read_only.set(read_only)


def register_template_filters(app: Flask) -> None:
    """``people``: one session's count of people as the signed-in user may see it (small
    counts suppressed for partners; readerapp/disclosure.py)."""
    from flask_login import current_user

    from .access import disclosure_for

    @app.template_filter("people")
    def _people(n: int | None) -> int | str | None:
        return disclosure_for(current_user).cell(n)


# Each domain package may define ``init_app(app)`` to register its blueprints, commands and
# navigation entries; the order here is the order of the navigation bar.
DOMAINS = (
    "web",
    "users",
    "accounts",
    "groups",
    "sessions",
    "catalogue",
    "attendance",
    "logbook",
    "offline",
    "organisations",
    "radio",
    "outcomes",
    "workforce",
    "feeds",
    "exports",
    "notifications",
    "audit",
    "privacy",
    "safeguarding",
    "referrals",
    "backup",
    "scheduler",
    "api",
)


def register_blueprints(app: Flask) -> None:
    import importlib

    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    for name in DOMAINS:
        # A domain listed here that cannot be imported stops the start: a missing package
        # must never leave the service quietly without its pages.
        module = importlib.import_module(f"{__name__}.{name}")
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
