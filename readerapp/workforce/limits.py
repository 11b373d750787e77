"""Field limits of the workforce records, read by forms, API schemas and operations."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import SessionHoursAdjustment, TrainingRecord

ADJUSTMENT_REASON = length_of(SessionHoursAdjustment.reason)
# A session's credited time, preparation and travel included: at most a long day.
ADJUSTED_MINUTES = Bounds(0, 16 * 60)
# A certificate number as typed (12 digits, with spaces or dashes); only 4 digits are stored.
CERTIFICATE_NUMBER_INPUT = 20
COURSE = length_of(TrainingRecord.course)
