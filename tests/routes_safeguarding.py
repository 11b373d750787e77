"""What each role gets on the safeguarding pages. Those who lead sessions raise concerns; the
designated safeguarding lead alone reads one — managers and admins without the capability, the
leader who raised it and partners get 403 on every page holding a concern's content."""

from .groups_support import released
from .route_table import SIGN_IN, Route, admins

MAY_LEAD = {"admin": 200, "manager": 200, "leader": 200, "other_leader": 200, "dsl": 200}
LEAD_ONLY = {"dsl": 200, "anonymous": SIGN_IN}
BAD_CONCERN = {"category": "gossip", "seen_or_said": "", "action_taken": ""}

ROUTES = [
    Route("safeguarding.index", lambda w: "/safeguarding", MAY_LEAD | {"anonymous": SIGN_IN}),
    Route(
        "safeguarding.index",
        lambda w: "/safeguarding?status=open",
        MAY_LEAD | {"anonymous": SIGN_IN},
    ),
    # The group's own leader and staff raise concerns about its session; the other leader not.
    Route(
        "safeguarding.raise_new",
        lambda w: f"/safeguarding/concerns/new?session_id={w.past_session.id}",
        MAY_LEAD | {"other_leader": 403, "anonymous": SIGN_IN},
    ),
    Route(
        "safeguarding.raise_new",
        lambda w: f"/safeguarding/concerns/new?participant_id={w.participant.id}",
        MAY_LEAD | {"other_leader": 403, "anonymous": SIGN_IN},
    ),
    Route(
        "safeguarding.raise_new",
        lambda w: "/safeguarding/concerns/new?session_id=999999",
        {role: 404 for role in MAY_LEAD} | {"anonymous": SIGN_IN},
    ),
    Route(
        "safeguarding.raise_new",
        lambda w: released(f"/safeguarding/concerns/new?session_id={w.past_session.id}"),
        {role: 400 for role in MAY_LEAD} | {"other_leader": 403, "anonymous": SIGN_IN},
        method="POST",
        data=lambda w: BAD_CONCERN,
    ),
    Route("safeguarding.detail", lambda w: f"/safeguarding/concerns/{w.concern.id}", LEAD_ONLY),
    # Nobody else learns whether a concern exists: 403 before the look-up.
    Route(
        "safeguarding.detail", lambda w: "/safeguarding/concerns/999999", LEAD_ONLY | {"dsl": 404}
    ),
    Route(
        "safeguarding.move_on",
        lambda w: released(f"/safeguarding/concerns/{w.concern.id}/status"),
        LEAD_ONLY | {"dsl": 400},
        method="POST",
        data=lambda w: {"status": "forgotten"},
    ),
    # Only managers and admins may hold the capability: granting it to a leader is refused.
    Route(
        "safeguarding.grant",
        lambda w: released(f"/admin/users/{w.leader.id}/safeguarding-lead"),
        admins(400),
        method="POST",
        data=lambda w: {"safeguarding_lead": "y"},
    ),
]
