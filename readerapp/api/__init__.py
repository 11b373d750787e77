"""The JSON API at /api/v1/ (flask-smorest + marshmallow), its OpenAPI document and docs page,
and the personal API tokens that authenticate it."""

from __future__ import annotations

from flask import Flask

from .core import ProblemAnswers, ReaderApi

API_PREFIX = "/api/v1"


def init_app(app: Flask) -> None:
    from ..access import API_TOKENS_IN_MENU
    from ..extensions import csrf
    from ..web import register_nav
    from . import (
        cli,
        concerns,
        exports,
        feeds,
        groups,
        organisations,
        outcomes,
        participants,
        radio,
        referrals,
        sessions,
        views,
        workforce,
    )

    app.config.setdefault("API_TITLE", "readerapp API")
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.0.3")
    app.config.setdefault("OPENAPI_URL_PREFIX", API_PREFIX)
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault(
        "API_SPEC_OPTIONS",
        {
            "info": {
                "description": (
                    "Groups, sessions, attendance, partnerships, radio broadcasts, and "
                    "outcomes: measures, consent and answer sets. "
                    "Authenticate with a personal API token: 'Authorization: Bearer <token>'. "
                    "Errors are application/problem+json (RFC 9457). Lists take page and "
                    "per_page and answer an X-Pagination header; the session list also names "
                    "its next page by cursor in a Link header. Reads answer an ETag; updates "
                    "need If-Match with it (428 without, 412 when stale)."
                )
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    api = ReaderApi(app, spec_kwargs={"extra_plugins": [ProblemAnswers()]})
    app.extensions["readerapp.api"] = api
    for blueprint in (
        organisations.organisations,
        organisations.venues,
        organisations.partnerships,
        groups.blp,
        sessions.blp,
        sessions.materials,
        participants.blp,
        radio.stations,
        radio.programmes,
        radio.episodes,
        radio.broadcasts,
        feeds.blp,
        exports.blp,
        outcomes.measures,
        outcomes.consent,
        outcomes.answer_sets,
        workforce.blp,
        concerns.blp,
        referrals.blp,
    ):
        # API requests are authenticated by their Bearer token, never by a cookie, so a forged
        # cross-site request carries nothing to forge with.
        csrf.exempt(blueprint)
        api.register_blueprint(blueprint)
    app.register_blueprint(views.bp)
    app.register_blueprint(views.docs_bp)
    app.cli.add_command(cli.api_token)
    register_nav(app, "API tokens", "api_tokens.tokens", API_TOKENS_IN_MENU)
