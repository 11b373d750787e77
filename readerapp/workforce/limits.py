"""Field limits of the workforce records, read by forms, API schemas and operations."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import SessionHoursAdjustment

ADJUSTMENT_REASON = length_of(SessionHoursAdjustment.reason)
# A session's credited time, preparation and travel included: at most a long day.
ADJUSTED_MINUTES = Bounds(0, 16 * 60)
