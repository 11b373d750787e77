from readerapp.extensions import db

from .groups_support import released
from .route_table import SIGN_IN, Route
from .world import World

PARTICIPANT_STAFF = {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN}


def _unconfirmed(w: World) -> dict[str, object]:
    # Reading w began a transaction in the test's session; on SQLite it would hold the write
    # lock the request needs.
    db.session.commit()
    return {}


ROUTES = [
    Route(
        "privacy.participants",
        lambda w: "/participants",
        PARTICIPANT_STAFF | {"other_leader": 200},  # lists only their own groups' participants
    ),
    Route(
        "privacy.participant",
        lambda w: f"/participants/{w.participant.id}",
        PARTICIPANT_STAFF,  # other_leader: not one of their groups' participants
    ),
    Route(
        "privacy.edit_name",
        lambda w: f"/participants/{w.participant.id}/name",
        # Managers may record a name (never seeing one); other leaders: not their people.
        PARTICIPANT_STAFF,
    ),
    Route(
        "privacy.edit_name",
        lambda w: f"/participants/{w.participant.id}/name",
        # Too long a name: refused inline, nothing written.
        PARTICIPANT_STAFF | {"admin": 400, "manager": 400, "leader": 400},
        method="POST",
        data=lambda w: {"display_name": "N" * 200},
    ),
    Route(
        "privacy.record_consent_entry",
        lambda w: released(f"/participants/{w.participant.id}/consent/evaluation"),
        # Neither given nor withdrawn said: refused inline, nothing written. Managers record
        # consent for anyone; other leaders: not their people.
        PARTICIPANT_STAFF | {"admin": 400, "manager": 400, "leader": 400},
        method="POST",
        data=lambda w: {"evaluation-on_date": "2026-01-01"},
    ),
    Route(
        "privacy.erase",
        lambda w: f"/participants/{w.participant.id}/erase",
        # Not confirmed: the form is refused and nothing is written.
        {"admin": 400, "anonymous": SIGN_IN},
        method="POST",
        data=_unconfirmed,
    ),
]
