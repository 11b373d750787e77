from readerapp.extensions import db
from readerapp.outcomes.operations import load_builtin_measures

from .route_table import SIGN_IN, Route
from .world import World

# Those who ask the questions read them; partners never see a questionnaire.
MEASURE_READERS = {
    "admin": 200,
    "manager": 200,
    "leader": 200,
    "other_leader": 200,
    "anonymous": SIGN_IN,
}


def _ons4(w: World) -> str:
    load_builtin_measures()  # idempotent: the first role's request loads it
    db.session.commit()
    return "/measures/ons4"


ROUTES = [
    Route("outcomes.index", lambda w: "/measures/", MEASURE_READERS),
    Route("outcomes.measure", _ons4, MEASURE_READERS),
    Route(
        "outcomes.group_measures",
        lambda w: f"/groups/{w.group.id}/measures",
        # The group's own leader sees its schedule; another group's leader does not.
        {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN},
    ),
    Route(
        "outcomes.group_measures_save",
        lambda w: f"/groups/{w.group.id}/measures",
        # No measure chosen: refused inline for managers; leaders see but never change it.
        {"admin": 400, "manager": 400, "anonymous": SIGN_IN},
        method="POST",
    ),
    Route(
        "outcomes.group_measures_remove",
        lambda w: f"/groups/{w.group.id}/measures/999999/remove",
        {"admin": 404, "manager": 404, "anonymous": SIGN_IN},
        method="POST",
    ),
]
