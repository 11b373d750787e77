"""What each role gets on the answer-entry pages: entering answers and feedback for those who log
the session's group; never partners. The world loads no measure: the entry pages say none is
loaded, and a POST saves nothing."""

from .groups_support import released
from .route_table import SIGN_IN, Route

# The group's own leaders, managers and admins; another group's leader and partners never.
SESSION_LOGGERS = {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN}
REFUSED = {"admin": 400, "manager": 400, "leader": 400, "anonymous": SIGN_IN}

ROUTES = [
    Route(
        "collecting.record_answers",
        lambda w: f"/sessions/{w.past_session.id}/answers",
        SESSION_LOGGERS,
    ),
    Route(
        "collecting.record_answers",
        lambda w: released(f"/sessions/{w.past_session.id}/answers"),
        # No measure loaded: nothing can be saved, and nothing is.
        REFUSED,
        method="POST",
        data=lambda w: {"measure_version_id": "999999"},
    ),
    Route(
        "collecting.record_feedback",
        lambda w: f"/sessions/{w.past_session.id}/feedback",
        SESSION_LOGGERS,
    ),
    Route(
        "collecting.record_feedback",
        lambda w: released(f"/sessions/{w.past_session.id}/feedback"),
        REFUSED,
        method="POST",
        data=lambda w: {"measure_version_id": "999999"},
    ),
]
