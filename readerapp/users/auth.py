"""Flask-Login wiring: loading the signed-in user from the session."""

from __future__ import annotations

from flask import Response, g

from ..extensions import db, login_manager
from .models import User
from .operations import current_sign_in

# What a device must forget: its kept pages and queued logs (caches, IndexedDB, the service
# worker). Sent on sign-out, and at a deactivated account's next contact.
CLEAR_DEVICE = '"cache", "storage"'
_DEACTIVATED = "_readerapp_deactivated_contact"


def clear_device(response: Response) -> Response:
    response.headers["Clear-Site-Data"] = CLEAR_DEVICE
    return response


def clear_device_of_deactivated(response: Response) -> Response:
    """An after-request hook: a request still carrying a deactivated account's sign-in clears
    its device."""
    if g.get(_DEACTIVATED):
        clear_device(response)
    return response


login_manager.login_view = "auth.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
login_manager.session_protection = "basic"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    ident, _, rest = user_id.partition(":")
    generation, _, token = rest.partition(":")
    if not ident.isdigit() or not generation.isdigit() or not token:
        return None
    user = db.session.get(User, int(ident))
    if user is not None and not user.active:
        g.setdefault(_DEACTIVATED, True)
    if user is None or not user.active or user.session_generation != int(generation):
        return None
    # Signed out everywhere, ended from another device, or past "keep me signed in": gone.
    if current_sign_in(user.id, token) is None:
        return None
    user.sign_in_token = token
    return user
