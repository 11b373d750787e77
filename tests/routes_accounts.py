"""What each role gets on the invitation and password-reset pages."""

from .groups_support import released
from .route_table import Route, staff

ANYONE = {
    "anonymous": 200,
    "admin": 200,
    "manager": 200,
    "leader": 200,
    "other_leader": 200,
    "partner": 200,
    "other_partner": 200,
}
# A link nobody was sent: the same refusal for everyone.
UNKNOWN_LINK = {role: 404 for role in ANYONE}

ROUTES = [
    Route("accounts.invitations", lambda w: "/invitations", staff()),
    Route(
        "accounts.invitations",
        lambda w: released("/invitations"),
        staff(400),
        method="POST",
        data=lambda w: {"email": "not an email", "display_name": "", "role": "reader_leader"},
    ),
    Route("accounts.accept", lambda w: "/invitation/not-a-link-we-sent", UNKNOWN_LINK),
    Route(
        "accounts.accept",
        lambda w: released("/invitation/not-a-link-we-sent"),
        UNKNOWN_LINK,
        method="POST",
    ),
    Route("accounts.forgot_password", lambda w: "/forgot-password", ANYONE),
    Route(
        "accounts.forgot_password",
        lambda w: released("/forgot-password"),
        {role: 400 for role in ANYONE},
        method="POST",
        data=lambda w: {"email": ""},
    ),
    Route("accounts.reset", lambda w: "/reset-password/not-a-link-we-sent", UNKNOWN_LINK),
]
