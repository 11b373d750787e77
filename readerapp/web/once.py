"""One-time form tokens: a form sent twice (a double tap on Save, or Back then Save) is saved
once. Each form carries a random token; once a save with it is committed, the token is kept in
the signed session beside what it saved, and the same token coming back is recognised."""

from __future__ import annotations

import secrets

from flask import session as flask_session

SAVED_FORMS_KEY = "saved_forms"
# The latest few are enough: Back goes only a few pages.
FORM_TOKENS_KEPT = 20


def new_form_token() -> str:
    return secrets.token_urlsafe(16)


def saved_already(form_token: str | None, what: str) -> bool:
    """Whether a save with this token (for ``what``, e.g. "log:12") was committed already."""
    return bool(form_token) and flask_session.get(SAVED_FORMS_KEY, {}).get(form_token) == what


def remember_saved(form_token: str | None, what: str) -> None:
    if not form_token:
        return
    saved = dict(flask_session.get(SAVED_FORMS_KEY, {}))
    saved[form_token] = what
    flask_session[SAVED_FORMS_KEY] = dict(list(saved.items())[-FORM_TOKENS_KEPT:])
