"""How the domains declare their field limits: each ``<domain>/limits.py`` states them once, and
forms, API schemas, operations and imports read them from there.

A text stored in a sized column takes its length from the column (the database is the hard edge);
a number or a ``Text`` column gets an explicit ``Bounds`` or length.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Bounds(NamedTuple):
    """An inclusive range of whole numbers."""

    min: int
    max: int


def length_of(attribute: Any) -> int:
    """The length a mapped String column declares."""
    length = attribute.expression.type.length
    if not isinstance(length, int):
        raise TypeError(f"{attribute} has no declared length")
    return length


# Every date the service plans or records lies in these years (recurrences, imports, the API).
YEARS = Bounds(2000, 2100)
