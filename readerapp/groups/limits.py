"""Field limits of reading groups, read by forms, API schemas and operations."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import GroupExcludedDate, ReadingGroup

GROUP_NAME = length_of(ReadingGroup.name)
RRULE = length_of(ReadingGroup.rrule)
TZ_NAME = length_of(ReadingGroup.tz_name)
ROOM = length_of(ReadingGroup.room)
AUDIENCE_NOTES = 2000  # a Text column: the limit is the service's, not the database's
DURATION_MINUTES = Bounds(1, 12 * 60)
CAPACITY = Bounds(1, 10_000)
EXPECTED_MAX = Bounds(1, 10_000)
EXCLUDED_REASON = length_of(GroupExcludedDate.reason)
