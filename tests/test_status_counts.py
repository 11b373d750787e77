"""Status counts add up: the sessions planned in any period split into delivered, cancelled,
not yet logged and still to come, and the report, the export and the API agree on the split.

Checked over the demo data and over a generated year, for months, quarters, odd ranges and each
partner, against sums over the rows of the export.
"""

from __future__ import annotations

import csv
import io
import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from readerapp.demo import seed
from readerapp.exports import streaming
from readerapp.exports.partnership_report import build_report
from readerapp.exports.queries import ExportFilters, ReportScope
from readerapp.exports.synthetic import generate
from readerapp.extensions import db
from readerapp.models import Organisation, ReadingSession
from readerapp.sessions.states import (
    SESSION_STATES,
    STATE_LABELS,
    session_state,
    state_case,
)

# The demo's "now": it logs sessions up to ten days before it and leaves the rest unlogged.
DEMO_NOW = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
GENERATED_TODAY = date(2026, 11, 1)
GENERATED_AS_OF = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def export_rows(filters: ExportFilters) -> list[dict[str, str]]:
    out = io.BytesIO()
    streaming.write_export(filters, "csv", out)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))


def periods(first: date, last: date, seed_value: int) -> list[tuple[date, date]]:
    """Every month and quarter from ``first`` to ``last``, the whole span, one day, and a few
    ranges with random ends."""
    found: list[tuple[date, date]] = [(first, last), (last, last)]
    month = date(first.year, first.month, 1)
    while month <= last:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        found.append((month, following - timedelta(days=1)))
        if month.month in (1, 4, 7, 10):
            quarter_end = date(month.year + (month.month + 2) // 12, (month.month + 2) % 12 + 1, 1)
            found.append((month, quarter_end - timedelta(days=1)))
        month = following
    rng = random.Random(seed_value)
    span = (last - first).days
    for _ in range(4):
        start = first + timedelta(days=rng.randrange(span))
        found.append((start, start + timedelta(days=rng.randrange(1, 120))))
    return found


def check_period(
    date_from: date, date_to: date, as_of: datetime, organisation_id: int | None = None
) -> Counter[str]:
    """The report's split adds up, month by month too, and matches the export's rows."""
    report = build_report(ReportScope(date_from, date_to, organisation_id, as_of=as_of))
    where = (date_from, date_to, organisation_id)
    assert sum(n for _, n in report.parts()) == report.planned, where
    for month in report.months:
        assert sum(n for _, n in month.parts()) == month.planned, (where, month)
    for state in ("planned", *SESSION_STATES):
        assert sum(getattr(m, state) for m in report.months) == getattr(report, state), where

    filters = ExportFilters(
        date_from, date_to, organisation_id=organisation_id, columns="machine", as_of=as_of
    )
    rows = export_rows(filters)
    assert len(rows) == report.planned, where
    by_state = Counter(r["state"] for r in rows)
    assert {s: by_state[s] for s in SESSION_STATES} == dict(report.parts()), where
    by_month = Counter((r["date"][:7], r["state"]) for r in rows)
    for month in report.months:
        assert [by_month[(month.month, s)] for s in SESSION_STATES] == [
            n for _, n in month.parts()
        ], (where, month.month)
    # The stored status still says "scheduled" for both unlogged parts.
    assert Counter(r["status"] for r in rows)["scheduled"] == (
        report.not_yet_logged + report.to_come
    )
    return by_state


def check_words_match(date_from: date, date_to: date, as_of: datetime) -> None:
    """The export in words counts the same, under "Status"."""
    report = build_report(ReportScope(date_from, date_to, as_of=as_of))
    rows = export_rows(ExportFilters(date_from, date_to, as_of=as_of))
    words = Counter(r["Status"] for r in rows)
    assert {STATE_LABELS[s]: n for s, n in report.parts() if n} == dict(words)


def check_sql_and_python_agree(as_of: datetime) -> None:
    """The CASE the database runs and the rule applied to a loaded session give one answer."""
    rows = db.session.execute(
        sa.select(
            ReadingSession.status,
            ReadingSession.start_dt,
            state_case(ReadingSession.status, ReadingSession.start_dt, as_of),
        )
    ).all()
    assert rows
    for status, start_dt, state in rows:
        assert session_state(status, start_dt, as_of) == state, (status, start_dt)


def organisation_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Organisation.id).order_by(Organisation.id)))


def test_the_demo_data_adds_up() -> None:
    seed(now=DEMO_NOW)
    db.session.commit()
    last = DEMO_NOW.date() + timedelta(days=60)
    first = last - timedelta(days=450)
    whole = check_period(first, last, DEMO_NOW)
    # The demo has every part, so the test is not trivially true.
    assert all(whole[state] > 0 for state in SESSION_STATES), whole
    for date_from, date_to in periods(first, last, 15):
        check_period(date_from, date_to, DEMO_NOW)
    for organisation_id in organisation_ids():
        check_period(first, last, DEMO_NOW, organisation_id)
    check_words_match(first, last, DEMO_NOW)
    check_sql_and_python_agree(DEMO_NOW)


def test_a_generated_year_adds_up() -> None:
    generate(1, today=GENERATED_TODAY, groups=24)
    db.session.commit()
    first = GENERATED_TODAY - timedelta(days=370)
    last = GENERATED_TODAY + timedelta(days=20)
    whole = check_period(first, last, GENERATED_AS_OF)
    assert all(whole[state] > 0 for state in SESSION_STATES), whole
    for date_from, date_to in periods(first, last, 4):
        check_period(date_from, date_to, GENERATED_AS_OF)
    for organisation_id in organisation_ids()[:6]:
        check_period(first, last, GENERATED_AS_OF, organisation_id)
    check_words_match(first, last, GENERATED_AS_OF)
    check_sql_and_python_agree(GENERATED_AS_OF)
