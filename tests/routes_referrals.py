"""What each role gets on the referral pages: participant-level data, so staff and the leaders
of the person's groups; never partners (they get referral figures in their reports)."""

from .groups_support import released
from .route_table import SIGN_IN, Route

LEADS = {"admin": 200, "manager": 200, "leader": 200, "other_leader": 200, "anonymous": SIGN_IN}
BAD_REFERRAL = {"code": "", "referred_on": "someday"}

ROUTES = [
    Route("referrals.index", lambda w: "/referrals", LEADS),
    Route("referrals.index", lambda w: "/referrals?status=regular", LEADS),
    Route("referrals.create", lambda w: "/referrals/new", LEADS),
    Route(
        "referrals.create",
        lambda w: released("/referrals/new"),
        {role: 400 for role in LEADS if role != "anonymous"} | {"anonymous": SIGN_IN},
        method="POST",
        data=lambda w: BAD_REFERRAL,
    ),
    Route(
        "referrals.detail",
        lambda w: f"/referrals/{w.referral.id}",
        LEADS | {"other_leader": 403},
    ),
    # A status jump without a reason: refused inline, for whoever may see the referral.
    Route(
        "referrals.detail",
        lambda w: released(f"/referrals/{w.referral.id}"),
        {"admin": 400, "manager": 400, "leader": 400, "other_leader": 403, "anonymous": SIGN_IN},
        method="POST",
        data=lambda w: {"status": "ended"},
    ),
]
