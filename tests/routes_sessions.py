"""What each role gets on the session and paper-register pages."""

import sqlalchemy as sa

from .route_table import SIGN_IN, Route, everyone


def _id(row: object) -> int:
    """A row's id without loading it: on SQLite, a refresh would open a write transaction in
    the test's own session and lock the POST requests out."""
    return sa.inspect(row).identity[0]


# The group's own leader, managers and admins; never the other group's leader or partners.
EDITORS = {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN}
# A POST without valid input: editors get the form back with errors, nothing is written.
EDITORS_BAD_INPUT = {"admin": 400, "manager": 400, "leader": 400, "anonymous": SIGN_IN}
# Seeing a session: editors and the partner of the group's host organisation.
VIEWERS = EDITORS | {"partner": 200}

ROUTES = [
    Route("sessions.dashboard", lambda w: "/sessions", everyone(200)),
    Route("logbook.detail", lambda w: f"/sessions/{_id(w.past_session)}", VIEWERS),
    Route("logbook.log", lambda w: f"/sessions/{_id(w.due_session)}/log", EDITORS),
    Route(
        "logbook.log",
        lambda w: f"/sessions/{_id(w.due_session)}/log",
        EDITORS_BAD_INPUT,
        method="POST",
        data=lambda w: {"status": "delivered", "participants": "-3"},
    ),
    Route("sessions.cancel", lambda w: f"/sessions/{_id(w.future_session)}/cancel", EDITORS),
    Route(
        "sessions.cancel",
        lambda w: f"/sessions/{_id(w.future_session)}/cancel",
        EDITORS_BAD_INPUT,
        method="POST",
        data=lambda w: {"version": "1", "reason": ""},
    ),
    Route(
        "sessions.reschedule", lambda w: f"/sessions/{_id(w.future_session)}/reschedule", EDITORS
    ),
    Route(
        "sessions.reschedule",
        lambda w: f"/sessions/{_id(w.future_session)}/reschedule",
        EDITORS_BAD_INPUT,
        method="POST",
        data=lambda w: {"version": "1", "date": "2026-02-30", "start_time": "10:30"},
    ),
    # The other group's leader and partner cannot see the group at all: 404, not 403.
    Route(
        "sessions.new",
        lambda w: f"/groups/{_id(w.group)}/sessions/new",
        EDITORS | {"other_leader": 404, "other_partner": 404},
    ),
    Route(
        "sessions.new",
        lambda w: f"/groups/{_id(w.group)}/sessions/new",
        EDITORS_BAD_INPUT | {"other_leader": 404, "other_partner": 404},
        method="POST",
        data=lambda w: {"date": "2026-02-30", "start_time": "10:30", "duration_minutes": "90"},
    ),
    Route("logbook.import_csv", lambda w: f"/groups/{_id(w.group)}/import-attendance", EDITORS),
    Route(
        "logbook.import_csv",
        lambda w: f"/groups/{_id(w.group)}/import-attendance",
        EDITORS_BAD_INPUT,
        method="POST",
        data=lambda w: {},
    ),
    Route(
        "logbook.import_template",
        lambda w: f"/groups/{_id(w.group)}/import-attendance/template.csv",
        EDITORS,
    ),
]
