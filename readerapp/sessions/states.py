"""Where a session stands, in the four parts every plan splits into.

The stored status says only whether a session was logged: "delivered" or "cancelled" once it
is, "scheduled" until then. "Scheduled" alone hides whether the session is still to come or
has happened and nobody has logged it, so reports, exports and the API count and show these
four states instead; together they add up to the sessions planned.

The split is written once, in ``_split``, over operands that may be Python values or SQL
columns: SQLAlchemy overloads ``==`` and ``<``, so the same conditions become a CASE in SQL
(``state_case``, ``state_sql``) and are evaluated directly for one loaded session
(``session_state``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

SESSION_STATES = ("delivered", "cancelled", "not_yet_logged", "to_come")
STATE_LABELS = {
    "delivered": "Delivered",
    "cancelled": "Cancelled",
    "not_yet_logged": "Not yet logged",
    "to_come": "Still to come",
}


def _split(status: Any, start: Any, now: Any) -> tuple[list[tuple[Any, str]], str]:
    """(condition, state) pairs, the first that holds wins, and the state when none does.

    A session can be logged only once it has started, so an unlogged one that has started is
    overdue for its log; one that has not is still to come.
    """
    return [
        (status == "delivered", "delivered"),
        (status == "cancelled", "cancelled"),
        (start < now, "not_yet_logged"),
    ], "to_come"


def state_case(status: Any, start: Any, now: Any) -> sa.Case[str]:
    """The state as an SQL expression over a status column, a start column and a now."""
    whens, otherwise = _split(status, start, now)
    return sa.case(*whens, else_=otherwise)


def state_sql(status: str, start: str, now: str) -> str:
    """``state_case`` as SQL text, for statements written as text: ``status`` and ``start``
    name columns (``s.status``), ``now`` is a placeholder (``:now``)."""
    column = sa.literal_column
    expression = state_case(column(status), column(start), column(now))
    return str(expression.compile(compile_kwargs={"literal_binds": True}))


def session_state(status: str, start_dt: datetime, now: datetime) -> str:
    """The state of one session, by the same conditions."""
    whens, otherwise = _split(status, start_dt, now)
    return next((state for holds, state in whens if holds), otherwise)
