"""What each role gets on the workforce pages: staff see and change every leader's record and
the hours; a person sees their own checks; partners see none of it."""

from datetime import date

from readerapp.extensions import db
from readerapp.workforce import operations as ops

from .groups_support import released
from .route_table import Route, staff
from .world import World

BAD_RECORD = {"record-employment_type": "contractor"}
BAD_CHECK = {
    "check-check_type": "enhanced_dbs_barred",
    "check-certificate_number": "12",
    "check-issued_on": "2026-05-01",
    "check-renewal_due": "2025-05-01",
}
BAD_TRAINING = {"training-course": "juggling", "training-completed_on": "2026-05-01"}
BAD_ADJUSTMENT = {"minutes": "-5", "reason": ""}


def check_of(w: World) -> int:
    """A fresh check of the world's leader (each role's removal needs its own), committed."""
    data = ops.CheckData("enhanced_dbs_barred", "001234567890", date(2026, 1, 5), date(2029, 1, 5))
    check_id = ops.add_check(w.leader, data).id
    db.session.commit()
    return check_id


def training_of(w: World) -> int:
    data = ops.TrainingData("leader_training", date(2026, 1, 5))
    training_id = ops.add_training(w.leader, data).id
    db.session.commit()
    return training_id


ROUTES = [
    Route("workforce.index", lambda w: "/workforce/", staff()),
    Route(
        "workforce.mine",
        lambda w: "/workforce/me",
        staff(302) | {"leader": 302, "other_leader": 302},
    ),
    Route(
        "workforce.person",
        lambda w: f"/workforce/people/{w.leader.id}",
        staff() | {"leader": 200},
    ),
    Route(
        "workforce.save_record",
        lambda w: released(f"/workforce/people/{w.leader.id}/record"),
        staff(400),
        method="POST",
        data=lambda w: BAD_RECORD,
    ),
    Route(
        "workforce.add_check",
        lambda w: released(f"/workforce/people/{w.leader.id}/checks"),
        staff(400),
        method="POST",
        data=lambda w: BAD_CHECK,
    ),
    Route(
        "workforce.add_training",
        lambda w: released(f"/workforce/people/{w.leader.id}/training"),
        staff(400),
        method="POST",
        data=lambda w: BAD_TRAINING,
    ),
    Route("workforce.hours", lambda w: "/workforce/hours", staff()),
    Route("workforce.hours_csv", lambda w: "/workforce/hours.csv", staff()),
    Route(
        "workforce.adjust",
        lambda w: f"/workforce/sessions/{w.past_session.id}/hours",
        staff(),
    ),
    Route(
        "workforce.adjust",
        lambda w: released(f"/workforce/sessions/{w.past_session.id}/hours"),
        staff(400),
        method="POST",
        data=lambda w: BAD_ADJUSTMENT,
    ),
    Route("workforce.group_hours", lambda w: f"/workforce/groups/{w.group.id}/hours", staff()),
    Route(
        "workforce.group_hours",
        lambda w: released(f"/workforce/groups/{w.group.id}/hours"),
        staff(400),
        method="POST",
        data=lambda w: {"preparation_minutes": "-1", "travel_minutes": "x"},
    ),
    Route(
        "workforce.edit_check",
        lambda w: f"/workforce/people/{w.leader.id}/checks/{check_of(w)}",
        staff(),
    ),
    Route(
        "workforce.edit_check",
        lambda w: released(f"/workforce/people/{w.leader.id}/checks/{check_of(w)}"),
        staff(400),
        method="POST",
        data=lambda w: BAD_CHECK,
    ),
    Route(
        "workforce.delete_check",
        lambda w: released(f"/workforce/people/{w.leader.id}/checks/{check_of(w)}/delete"),
        staff(302),
        method="POST",
    ),
    Route(
        "workforce.edit_training",
        lambda w: f"/workforce/people/{w.leader.id}/training/{training_of(w)}",
        staff(),
    ),
    Route(
        "workforce.edit_training",
        lambda w: released(f"/workforce/people/{w.leader.id}/training/{training_of(w)}"),
        staff(400),
        method="POST",
        data=lambda w: BAD_TRAINING,
    ),
    Route(
        "workforce.delete_training",
        lambda w: released(f"/workforce/people/{w.leader.id}/training/{training_of(w)}/delete"),
        staff(302),
        method="POST",
    ),
]
