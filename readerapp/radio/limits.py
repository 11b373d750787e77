"""Field limits of radio programmes, episodes and broadcasts, read by forms, API schemas,
operations and the schedule file."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import Broadcast, Episode, Programme

PROGRAMME_TITLE = length_of(Programme.title)
PROGRAMME_DESCRIPTION = 2000  # a Text column: the limit is the service's, not the database's
EPISODE_TITLE = length_of(Episode.title)
EPISODE_NUMBER = Bounds(1, 9999)
DURATION_MINUTES = Bounds(1, 24 * 60)
CANCELLATION_REASON = length_of(Broadcast.cancellation_reason)
TZ_NAME = length_of(Broadcast.tz_name)
