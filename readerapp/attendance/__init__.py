"""Attendance: headcounts per delivered session and optional pseudonymous registers. It builds
on sessions; logging a session with its attendance, and its pages, are the logbook's."""

import sqlalchemy as sa

from ..extensions import db
from ..organisations.models import Organisation
from ..organisations.operations import NAMES_HELD


def _names_held(organisation: Organisation) -> int:
    from .models import Participant

    held = sa.select(sa.func.count()).where(
        Participant.organisation_id == organisation.id,
        sa.or_(Participant.display_name.is_not(None), Participant.notes.is_not(None)),
    )
    return db.session.scalar(held) or 0


# An organisation does not switch names off while its participants still hold some.
NAMES_HELD["participants"] = _names_held
