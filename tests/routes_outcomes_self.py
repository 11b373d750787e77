"""What each role gets on the pages that hand the leader's phone to a participant: the group's
own leaders and staff only. Without answers in progress the handed-over screens are a 409."""

import sqlalchemy as sa

from .route_table import SIGN_IN, Route


def _id(row: object) -> int:
    """A row's id without loading it (see routes_sessions)."""
    return sa.inspect(row).identity[0]


def _editors(status: int) -> dict[str, int]:
    return {"admin": status, "manager": status, "leader": status, "anonymous": SIGN_IN}


def _url(tail: str = ""):
    return lambda w: f"/sessions/{_id(w.past_session)}/hand-over{tail}"


ROUTES = [
    Route("outcomes_self.start", _url(), _editors(200)),
    # Nobody chosen: the start page again, with the problem.
    Route("outcomes_self.begin_view", _url(), _editors(400), method="POST"),
    Route("outcomes_self.question", _url("/question"), _editors(409)),
    Route("outcomes_self.answer", _url("/question"), _editors(409), method="POST"),
    Route("outcomes_self.stop_confirm", _url("/stop"), _editors(409)),
    Route("outcomes_self.stop", _url("/stop"), _editors(303), method="POST"),
    Route("outcomes_self.finish", _url("/finish"), _editors(409), method="POST"),
]
