"""What each role gets on the invitation and password-reset pages."""

from .groups_support import released
from .route_table import Route, admins, everyone, staff

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

# The second step of signing in: without a password given first, back to the sign-in page.
BACK_TO_SIGN_IN = {role: 302 for role in ANYONE}

ROUTES += [
    Route("two_factor.code", lambda w: "/sign-in/code", BACK_TO_SIGN_IN),
    Route(
        "two_factor.code",
        lambda w: released("/sign-in/code"),
        BACK_TO_SIGN_IN,
        method="POST",
        data=lambda w: {"code": "123456"},
    ),
    Route("two_factor.set_up", lambda w: "/sign-in/set-up-two-factor", BACK_TO_SIGN_IN),
    Route(
        "two_factor.set_up",
        lambda w: released("/sign-in/set-up-two-factor"),
        BACK_TO_SIGN_IN,
        method="POST",
        data=lambda w: {"code": "123456"},
    ),
    Route("two_factor.account", lambda w: "/account/two-factor", everyone(200)),
    Route(
        "two_factor.account",
        lambda w: released("/account/two-factor"),
        # A code that cannot be right: refused as a wrong code.
        everyone(401),
        method="POST",
        data=lambda w: {"code": "12"},
    ),
    Route(
        "two_factor.admin_reset",
        lambda w: released(f"/admin/users/{w.leader.id}/reset-two-factor"),
        admins(302),
        method="POST",
    ),
]

ROUTES += [
    # The test world configures no provider (tests/test_accounts_sso.py runs one).
    Route("sso.start", lambda w: "/sign-in/sso/nobody", UNKNOWN_LINK),
    Route("sso.callback", lambda w: "/sign-in/sso/nobody/callback", UNKNOWN_LINK),
]
