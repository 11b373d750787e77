"""Field limits of attendance, read by forms, API schemas, operations and the CSV import."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import Participant

PARTICIPANT_CODE = length_of(Participant.code)
# A first name is all a group needs; the column allows more for names held before the limit.
PARTICIPANT_NAME = 60
PARTICIPANT_NOTE = 500  # ``notes`` is a Text column: a short note, never a case file
HEADCOUNT = Bounds(0, 1000)  # each of participants, first_time, staff_carers, volunteers
