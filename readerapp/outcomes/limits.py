"""Limits of a measure definition, read by the definition checker and the models."""

from __future__ import annotations

from ..limits import Bounds, length_of
from .models import Measure, MeasureVersion

MEASURE_NAME = length_of(Measure.name)
MEASURE_VERSION = length_of(MeasureVersion.version)
ACKNOWLEDGEMENT = 500  # a copyright or acknowledgement line, printed on every copy
ITEM_LABEL = 60  # a short name for charts and tables ("Anxiety yesterday")
ITEM_TEXT = 500  # the question, word for word
OPTION_LABEL = 80
ITEMS = Bounds(1, 50)  # items in one measure
OPTIONS = Bounds(2, 21)  # possible answers to one item (0–20 at most)
RESPONSE_RANGE = Bounds(0, 100)
EVERY_SESSIONS = Bounds(1, 52)  # ask again after this many of the group's sessions
EVERY_WEEKS = Bounds(1, 104)  # or after this many weeks
