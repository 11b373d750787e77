"""Field limits of feed tokens, read by the form and the API schema."""

from __future__ import annotations

from ..limits import length_of
from .models import FeedToken

FEED_TOKEN_LABEL = length_of(FeedToken.label)
