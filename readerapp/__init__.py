"""readerapp: groups, sessions, attendance, radio and partner feeds for Shared Reading."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from flask import Flask, request

from . import config as settings
from .db import include_object, render_item, sqlite_read_only, view_reads_first
from .extensions import csrf, db, limiter, login_manager, migrate
from .security import register_security

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict[str, Any] | None = None, instance_path: str | None = None) -> Flask:
    """Build the application. ``config`` overrides every other source (tests use it)."""
    app = Flask(__name__, instance_path=instance_path, instance_relative_config=True)
    app.config.update(settings.load(Path(app.instance_path), config))
    configure_logging(app)
    register_extensions(app)
    register_request_hooks(app)
    register_blueprints(app)
    register_commands(app)
    register_security(app)
    return app


def configure_logging(app: Flask) -> None:
    level = getattr(logging, str(app.config["LOG_LEVEL"]).upper(), logging.INFO)
    logging.getLogger("readerapp").setLevel(level)
    app.logger.setLevel(level)


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
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["RATELIMIT_STORAGE_URI"])
    limiter.init_app(app)
    login_manager.init_app(app)
    from .users import auth  # noqa: F401  (registers the user loader)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _mark_read_only() -> None:
        # SQLite: reads begin deferred so they never queue behind writers; so do the checks of
        # a write view marked ``reads_first``, until it calls ``begin_writing()``.
        read_only = request.method in READ_ONLY_METHODS or view_reads_first(
            app.view_functions.get(request.endpoint or ""), request.method
        )
        sqlite_read_only.set(read_only)


# Each domain package may define ``init_app(app)`` to register its blueprints, commands and
# navigation entries; the order here is the order of the navigation bar.
DOMAINS = (
    "web",
    "users",
    "groups",
    "sessions",
    "attendance",
    "organisations",
    "radio",
    "feeds",
    "exports",
    "notifications",
    "audit",
    "privacy",
    "backup",
    "scheduler",
    "api",
)


def register_blueprints(app: Flask) -> None:
    import importlib
    import importlib.util

    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    for name in DOMAINS:
        if importlib.util.find_spec(f"{__name__}.{name}") is None:
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        init = getattr(module, "init_app", None)
        if init is not None:
            init(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
