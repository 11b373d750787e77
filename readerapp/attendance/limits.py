"""Field limits of attendance, read by forms, API schemas, operations and the CSV import."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import Participant

PARTICIPANT_CODE = length_of(Participant.code)
HEADCOUNT = Bounds(0, 1000)  # each of participants, first_time, staff_carers, volunteers
