"""Small-number protection: the one statement of how a count of people is shown to someone who
may not see the real figures (partner viewers; who that is, is decided by
``readerapp.access.sees_small_numbers``).

Counts of people are participants (a session's headcount, first-timers, unique participants,
participants with 4 or more sessions, total attendances). Sessions, broadcasts and prisons are
not people; nor are the staff, carers and volunteers at a session, who are there in their role.

The rule, as NHS and ONS statistics apply it:

- a count from 1 to ``below - 1`` shows as "fewer than 5" (``<5`` in the machine column set);
  zero stays 0, as it identifies nobody;
- a figure that adds up several sessions (a month, a period, a group) is also rounded to the
  nearest ``ROUND_TO``, so that no total, and no difference between two totals or between a
  total and the session rows of an export, gives back a suppressed count exactly;
- means and shares are worked out from the figures shown, so they give back nothing more.

``cell`` and ``total`` apply it to Python values; ``cell_sql`` spells ``cell`` in SQL for
exports whose lines the database writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Figures over several sessions are rounded to a multiple of this (half up).
ROUND_TO = 5


@dataclass(frozen=True)
class Disclosure:
    """How counts of people are shown: ``below`` 0 shows the real figures; otherwise counts
    from 1 to ``below - 1`` are suppressed (and totals rounded)."""

    below: int = 0
    machine: bool = False

    @property
    def protects(self) -> bool:
        return self.below > 1

    @property
    def marker(self) -> str:
        """What a suppressed count shows."""
        return f"<{self.below}" if self.machine else f"fewer than {self.below}"

    @property
    def note(self) -> str | None:
        """A sentence telling the reader how the figures were protected (None: real figures)."""
        if not self.protects:
            return None
        return (
            f"To protect privacy, counts of people from 1 to {self.below - 1} show as "
            f'"{self.marker}", and counts of people over several sessions are rounded to the '
            f"nearest {ROUND_TO}; means and shares are worked out from the rounded figures."
        )

    def is_small(self, n: int) -> bool:
        return self.protects and 0 < n < self.below

    def cell(self, n: int | None) -> int | str | None:
        """One session's count of people."""
        if n is None or not self.is_small(n):
            return n
        return self.marker

    def total(self, n: int | None) -> int | str | None:
        """A count of people over several sessions: suppressed when small, else rounded."""
        if n is None or not self.protects:
            return n
        if self.is_small(n):
            return self.marker
        return (n + ROUND_TO // 2) // ROUND_TO * ROUND_TO

    def ratio(self, part: Any, whole: Any) -> float | None:
        """``part / whole`` from shown figures; None when either is suppressed or whole is 0."""
        if not isinstance(part, int | float) or not isinstance(whole, int | float) or not whole:
            return None
        return part / whole

    def cell_sql(self, expr: str) -> str:
        """``cell`` as SQL text over an integer expression, giving text (for CSV lines)."""
        shown = f"CAST({expr} AS TEXT)"  # NULL (not logged) stays NULL
        if not self.protects:
            return shown
        marker = self.marker.replace("'", "''")
        return (
            f"CASE WHEN {expr} > 0 AND {expr} < {int(self.below)} THEN '{marker}' ELSE {shown} END"
        )


REAL_FIGURES = Disclosure()
