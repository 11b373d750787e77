"""Field limits of safeguarding concerns, read by the form, the API schema and operations."""

from __future__ import annotations

from ..limits import length_of
from .models import Concern

# Long enough for a careful account; the column itself is unbounded text.
CONCERN_TEXT = 5000
WHO_WAS_TOLD = length_of(Concern.who_was_told)
REFERRED_TO = length_of(Concern.referred_to)
REFERENCE = length_of(Concern.reference)
