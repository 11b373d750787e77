"""What each role gets on the import of paper questionnaires: those who record the group's
answers (its own leaders, managers and admins); another group's leader and partners never."""

from readerapp.extensions import db
from readerapp.outcomes.operations import load_builtin_measures

from .groups_support import released
from .route_table import SIGN_IN, Route
from .world import World

ANSWER_RECORDERS = {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN}
# No file and no measure chosen: refused inline, nothing written.
REFUSED = {"admin": 400, "manager": 400, "leader": 400, "anonymous": SIGN_IN}


def _template(w: World) -> str:
    load_builtin_measures()  # idempotent: the first role's request loads it
    db.session.commit()
    return f"/groups/{w.group.id}/answers/import/template.csv?measure=ons4"


ROUTES = [
    Route(
        "answer_imports.import_csv",
        lambda w: f"/groups/{w.group.id}/answers/import",
        ANSWER_RECORDERS,
    ),
    Route(
        "answer_imports.import_csv",
        lambda w: released(f"/groups/{w.group.id}/answers/import"),
        REFUSED,
        method="POST",
        data=lambda w: {},
    ),
    Route("answer_imports.import_template", _template, ANSWER_RECORDERS),
]
