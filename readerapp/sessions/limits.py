"""Field limits of sessions and reading materials, read by forms, API schemas, operations and
the attendance import."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import ReadingMaterial, ReadingSession

MATERIAL_TITLE = length_of(ReadingMaterial.title)
MATERIAL_AUTHOR = length_of(ReadingMaterial.author)
CANCELLATION_REASON = length_of(ReadingSession.cancellation_reason)
SESSION_NOTES = 5000  # a Text column: the limit is the service's, not the database's
DURATION_MINUTES = Bounds(1, 8 * 60)
