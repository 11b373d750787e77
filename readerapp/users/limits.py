"""Field limits of user accounts and API tokens, read by forms and operations."""

from __future__ import annotations

from ..limits import length_of
from .models import ApiToken, User

DISPLAY_NAME = length_of(User.display_name)
EMAIL = length_of(User.email)
# Only the hash is stored; the cap keeps hashing a pasted novel off the sign-in path.
PASSWORD = 200
API_TOKEN_NAME = length_of(ApiToken.name)
