"""Report periods: the periods a report is compared with, and the periods a saved preset runs.

All dates are local dates, both ends inclusive.
"""

from __future__ import annotations

from datetime import date, timedelta

# What a preset's period is, in the order the form lists them.
PERIOD_TYPES = ("quarter", "month", "financial_year", "custom")
PERIOD_LABELS = {
    "quarter": "Quarter (January–March, April–June, …)",
    "month": "Month",
    "financial_year": "Financial year (April to March)",
    "custom": "Custom range (fixed dates)",
}


def _month_start(day: date, months_back: int = 0) -> date:
    """The first day of the month ``months_back`` months before ``day``'s."""
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def _whole_months(date_from: date, date_to: date) -> int | None:
    """How many calendar months the period spans when it is made of whole months, else None."""
    if date_from.day != 1 or (date_to + timedelta(days=1)).day != 1:
        return None
    return (date_to.year - date_from.year) * 12 + date_to.month - date_from.month + 1


def previous_period(date_from: date, date_to: date) -> tuple[date, date]:
    """The period of the same length just before: the same number of calendar months when the
    period is whole months (so a quarter is compared with the quarter before, whatever their
    days), else the same number of days."""
    months = _whole_months(date_from, date_to)
    end = date_from - timedelta(days=1)
    if months is not None:
        return _month_start(date_from, months), end
    return end - (date_to - date_from), end


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February: the last day of February the year before
        return date(day.year - 1, 2, 28)


def same_period_last_year(date_from: date, date_to: date) -> tuple[date, date]:
    """The same dates one year earlier (a period ending on 29 February ends on the 28th)."""
    return _year_before(date_from), _year_before(date_to)


def _quarter_start(today: date) -> date:
    return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)


def _financial_year_start(today: date) -> date:
    return date(today.year if today.month >= 4 else today.year - 1, 4, 1)


def _period_containing(period_type: str, today: date) -> tuple[date, date]:
    if period_type == "month":
        start, months = _month_start(today), 1
    elif period_type == "quarter":
        start, months = _quarter_start(today), 3
    elif period_type == "financial_year":
        start, months = _financial_year_start(today), 12
    else:
        raise ValueError(f"no running period for {period_type!r}")
    index = start.year * 12 + start.month - 1 + months
    return start, date(index // 12, index % 12 + 1, 1) - timedelta(days=1)


def current_period(period_type: str, today: date) -> tuple[date, date]:
    """The month, quarter or financial year that ``today`` falls in."""
    return _period_containing(period_type, today)


def last_complete_period(period_type: str, today: date) -> tuple[date, date]:
    """The last month, quarter or financial year that has ended by ``today``: the one a return
    to a funder reports on."""
    start, _ = _period_containing(period_type, today)
    return _period_containing(period_type, start - timedelta(days=1))
