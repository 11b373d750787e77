"""The funder-ready partnership report: figures per group, against the previous period and the
same period last year (checked against the attendance export), outlier flags for staff, and
small numbers protected in everything a partner sees."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date
from html import escape, unescape

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.attendance.models import Participant
from readerapp.disclosure import Disclosure
from readerapp.exports import streaming
from readerapp.exports.partnership_report import (
    ALL_SECTIONS,
    OUTLIER_RULE,
    Report,
    build_report,
    comparison_rows,
    group_comparison_rows,
    protected,
    with_comparisons,
)
from readerapp.exports.periods import (
    current_period,
    last_complete_period,
    previous_period,
    same_period_last_year,
)
from readerapp.exports.queries import ExportFilters, ReportScope, neutralise
from readerapp.extensions import db

from . import exports_fixture
from .exports_fixture import GROUP1_NAME, Q1, Fixture, local
from .factories import Factory
from .test_reports_partnership import q1_args, signed_in

Q4_2025 = (date(2025, 10, 1), date(2025, 12, 31))
Q1_2025 = (date(2025, 1, 1), date(2025, 3, 31))


@pytest.fixture
def fx() -> Fixture:
    return exports_fixture.build()


@pytest.fixture
def history(fx: Fixture) -> Fixture:
    """The fixture, with sessions in the quarter before and in the same quarter of 2025."""
    f = Factory()
    p1, p2, p3 = (
        db.session.scalar(sa.select(Participant).where(Participant.code == code))
        for code in ("P1", "P2", exports_fixture.CODE3)
    )

    def delivered(group, when, n, people=()):
        s = f.session(group, start_dt=when, status="delivered")
        f.attendance(s, participants=n, first_time=0)
        for person in people:
            f.register(s, person)

    # The quarter before (October to December 2025).
    delivered(fx.group1, local(2025, 10, 7), 6, (p1, p2))
    delivered(fx.group1, local(2025, 11, 4), 4, (p1,))
    f.session(fx.group1, start_dt=local(2025, 12, 2), status="cancelled", cancellation_reason="Flu")
    delivered(fx.group2, local(2025, 12, 10, 14, 0), 3)
    # The same quarter a year earlier.
    delivered(fx.group1, local(2025, 2, 4), 9, (p1, p2, p3))
    db.session.commit()
    return fx


# --- Periods --------------------------------------------------------------------------------


def test_previous_period_is_whole_months_when_the_period_is() -> None:
    assert previous_period(*Q1) == Q4_2025  # 92 days before a 90-day quarter
    assert previous_period(date(2026, 3, 1), date(2026, 3, 31)) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
    )
    # Not whole months: the same number of days, just before.
    assert previous_period(date(2026, 1, 10), date(2026, 1, 19)) == (
        date(2025, 12, 31),
        date(2026, 1, 9),
    )


def test_same_period_last_year() -> None:
    assert same_period_last_year(*Q1) == Q1_2025
    assert same_period_last_year(date(2028, 2, 1), date(2028, 2, 29)) == (
        date(2027, 2, 1),
        date(2027, 2, 28),
    )


@pytest.mark.parametrize(
    "period_type, today, current, last",
    [
        ("quarter", date(2026, 11, 30), (10, 1, 12, 31), (7, 1, 9, 30)),
        ("quarter", date(2026, 1, 5), (1, 1, 3, 31), (10, 1, 12, 31)),
        ("month", date(2026, 3, 31), (3, 1, 3, 31), (2, 1, 2, 28)),
        ("month", date(2026, 1, 1), (1, 1, 1, 31), (12, 1, 12, 31)),
    ],
)
def test_running_and_last_complete_periods(period_type, today, current, last) -> None:
    start, end = current_period(period_type, today)
    assert (start.month, start.day, end.month, end.day) == current
    start, end = last_complete_period(period_type, today)
    assert (start.month, start.day, end.month, end.day) == last


def test_financial_years_run_april_to_march() -> None:
    assert current_period("financial_year", date(2026, 3, 31)) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
    )
    assert current_period("financial_year", date(2026, 4, 1)) == (
        date(2026, 4, 1),
        date(2027, 3, 31),
    )
    assert last_complete_period("financial_year", date(2026, 11, 30)) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
    )


# --- Per group ------------------------------------------------------------------------------


def test_per_group_figures_hand_counted(fx: Fixture) -> None:
    report = build_report(ReportScope(*Q1))
    groups = {g.name: g for g in report.groups}
    one, two = groups[GROUP1_NAME], groups["B Wing Readers"]
    assert (one.setting, one.delivered, one.cancelled, one.attendances) == (
        "Mental health inpatient",
        4,
        1,
        5 + 4 + 6 + 3,
    )
    assert (one.unique_participants, one.retained, one.retention) == (3, 1, pytest.approx(1 / 3))
    assert (two.setting, two.delivered, two.cancelled, two.attendances) == ("Prison", 2, 0, 10)
    assert (two.unique_participants, two.retained) == (1, 0)
    # The groups add up to the report's totals.
    assert sum(g.delivered for g in report.groups) == report.delivered
    assert sum(g.attendances for g in report.groups) == report.attendances


def _export(filters: ExportFilters) -> list[dict[str, str]]:
    out = io.BytesIO()
    streaming.write_export(filters, "csv", out)
    return list(csv.DictReader(io.StringIO(out.getvalue().decode("utf-8-sig"), newline="")))


def _sums_over_export(
    period: tuple[date, date], organisation_id: int | None
) -> dict[str, tuple[int, int, int, int, int]]:
    """Per group, from the attendance export (machine columns): sessions delivered and
    cancelled, attendances, unique participants and those with 4+ sessions."""
    kw = {"columns": "machine", "organisation_id": organisation_id}
    sessions = _export(ExportFilters(*period, **kw))
    people = _export(ExportFilters(*period, per_participant=True, **kw))
    delivered_ids = {r["session_id"] for r in sessions if r["state"] == "delivered"}
    sums: dict[str, tuple[int, int, int, int, int]] = {}
    for group in {r["group"] for r in sessions}:
        rows = [r for r in sessions if r["group"] == group]
        visits = Counter(
            r["participant_code"]
            for r in people
            if r["group"] == group and r["session_id"] in delivered_ids
        )
        sums[group] = (
            sum(r["state"] == "delivered" for r in rows),
            sum(r["state"] == "cancelled" for r in rows),
            sum(int(r["participants"] or 0) for r in rows if r["state"] == "delivered"),
            len(visits),
            sum(n >= 4 for n in visits.values()),
        )
    return sums


def _group_figures(report: Report) -> dict[str, tuple[int, int, int, int, int]]:
    return {
        # The export neutralises names that a spreadsheet would run as formulas.
        neutralise(g.name): (
            g.delivered,
            g.cancelled,
            g.attendances,
            g.unique_participants,
            g.retained,
        )
        for g in report.groups
    }


@pytest.mark.parametrize("partner", [None, "org1"])
def test_per_group_previous_and_last_year_match_sums_over_the_export(
    history: Fixture, partner: str | None
) -> None:
    organisation_id = history.org1.id if partner else None
    report = with_comparisons(build_report(ReportScope(*Q1, organisation_id=organisation_id)))
    assert report.previous is not None and report.last_year is not None
    assert (report.previous.scope.date_from, report.previous.scope.date_to) == Q4_2025
    assert (report.last_year.scope.date_from, report.last_year.scope.date_to) == Q1_2025
    for shown, period in (
        (report, Q1),
        (report.previous, Q4_2025),
        (report.last_year, Q1_2025),
    ):
        sums = _sums_over_export(period, organisation_id)
        assert _group_figures(shown) == sums, period
        # And the headline figures are the sums over the groups.
        assert shown.delivered == sum(s[0] for s in sums.values())
        assert shown.cancelled == sum(s[1] for s in sums.values())
        assert shown.attendances == sum(s[2] for s in sums.values())
    assert _sums_over_export(Q4_2025, None)[neutralise(GROUP1_NAME)] == (
        2,
        1,
        10,
        2,
        0,
    )


def test_changes_against_the_earlier_periods(history: Fixture) -> None:
    report = with_comparisons(build_report(ReportScope(*Q1, organisation_id=history.org1.id)))
    rows = {r.label: r for r in comparison_rows(report)}
    delivered = rows["Sessions delivered"]
    assert (delivered.now, delivered.previous.before, delivered.last_year.before) == (4, 2, 1)
    assert (delivered.previous.difference, delivered.previous.percent) == (2, 100.0)
    assert (delivered.last_year.difference, delivered.last_year.percent) == (3, 300.0)
    attendances = rows["Total attendances"]
    assert (attendances.now, attendances.previous.before, attendances.last_year.before) == (
        18,
        10,
        9,
    )
    assert attendances.previous.percent == 80.0
    # Retention changes in percentage points, never in per cent of a share.
    retention = rows["Retention (share with 4+ sessions)"]
    assert retention.previous.percent is None
    assert retention.previous.difference == pytest.approx(round((0.333 - 0.0) * 100, 1))
    by_group = {(r.group, r.label): r for r in group_comparison_rows(report)}
    cancelled = by_group[(GROUP1_NAME, "Sessions cancelled")]
    assert (cancelled.now, cancelled.previous.before, cancelled.last_year.before) == (1, 1, 0)
    # Nothing to compare with: no per cent of zero.
    assert cancelled.last_year.percent is None and cancelled.last_year.difference == 1


def test_page_and_downloads_show_groups_and_comparisons(
    app: Flask, history: Fixture, factory: Factory
) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = signed_in(app, manager)
    args = q1_args(organisation=str(history.org1.id))
    html = client.get("/reports/partnership", query_string=args).get_data(as_text=True)
    assert 'id="groups-table"' in html and "Mental health inpatient" in html
    assert 'id="comparison-table"' in html and 'id="group-comparison-table"' in html
    assert (
        "1 October 2025 to 31 December 2025" in html and "1 January 2025 to 31 March 2025" in html
    )
    assert "+100.0%" in html and "+300.0%" in html
    # The group comparison's rows (written without the template): every text escaped, each
    # figure cell labelled for phones.
    table = html.split('id="group-comparison-table"', 1)[1].split("</table>", 1)[0]
    assert '"calc"' not in table
    assert (
        f'<tr><td data-label="Group">{escape(GROUP1_NAME)}</td>'
        '<th scope="row" data-label="Measure">Sessions cancelled</th>'
        '<td class="num" data-label="This period">1</td>'
        '<td class="num" data-label="Previous period">1</td>'
        '<td class="num" data-label="Change on previous period">+0</td>'
        '<td class="num" data-label="Change on previous period (%)">+0.0%</td>'
        '<td class="num" data-label="Same period last year">0</td>'
        '<td class="num" data-label="Change on last year">+1</td>'
        '<td class="num" data-label="Change on last year (%)">—</td></tr>'
    ) in table
    # The charts and their table stay.
    assert html.count('role="img"') == 2

    data = client.get("/reports/partnership.csv", query_string=args, buffered=True).get_data()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["By group"] in rows and ["Compared with earlier periods"] in rows
    assert [
        neutralise(GROUP1_NAME),
        "Mental health inpatient",
        "4",
        "1",
        "18",
        "3",
        "1",
        "0.333",
    ] in rows
    assert ["Sessions delivered", "4", "2", "2", "100.0", "1", "3", "300.0"] in rows
    book = openpyxl.load_workbook(
        io.BytesIO(
            client.get("/reports/partnership.xlsx", query_string=args, buffered=True).get_data()
        )
    )
    groups = list(book["By group"].iter_rows(values_only=True))
    assert groups[0][:3] == ("Group", "Setting", "Sessions delivered")
    assert groups[1][2:5] == (4, 1, 18)
    compared = list(book["Compared with earlier periods"].iter_rows(values_only=True))
    assert compared[0][2] == "Previous period (2025-10-01 to 2025-12-31)"
    assert ("Total attendances", 18, 10, 8, 80, 9, 9, 100) in compared
    assert {r[0] for r in book["By group compared"].iter_rows(min_row=2, values_only=True)} == {
        neutralise(GROUP1_NAME)
    }


def test_sections_leave_out_what_was_not_chosen(app: Flask, fx: Fixture, factory) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = signed_in(app, manager)
    args = q1_args(organisation=str(fx.org1.id), section="groups")
    html = client.get("/reports/partnership", query_string=args).get_data(as_text=True)
    assert 'id="groups-table"' in html
    after_form = html.split('id="summary-heading"', 1)[1]
    assert "<svg" not in after_form and "What was read" not in after_form, after_form[
        after_form.find("<svg") - 300 :
    ][:600]
    assert 'id="comparison-table"' not in html
    # The downloads follow the page's choice.
    assert "section=groups" in html
    data = client.get("/reports/partnership.csv", query_string=args, buffered=True).get_data()
    text = data.decode("utf-8-sig")
    assert "By group" in text and "By month" not in text and "Top texts" not in text
    bad = client.get("/reports/partnership", query_string=q1_args(section="gossip"))
    assert bad.status_code == 400 and "is not a valid choice" in bad.get_data(as_text=True)


# --- Small numbers --------------------------------------------------------------------------


PEOPLE_MEASURES = ("Total attendances", "Attendances", "Unique participants", "Participants with")


def _people_cells(html: str, table_id: str) -> list[str]:
    """The cells of a table that show counts of people (a whole row of them, for a measure
    that counts people; the columns of people, in the per-group table)."""
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    cells: list[str] = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, flags=re.S):
        if table_id == "groups-table":
            cells += re.findall(r'data-label="(?:Attendances|Unique participants)">([^<]*)<', row)
        elif any(f">{m}" in row for m in PEOPLE_MEASURES):
            cells += re.findall(r'<td class="num" data-label="[^"]*">([^<]*)<', row)
    return cells


def test_a_partner_sees_group_and_comparison_figures_protected(
    app: Flask, history: Fixture, factory
) -> None:
    """The prison's group has one registered participant: a partner never sees 1 to 4."""
    partner = factory.user("partner_viewer", organisation_id=history.org2.id)
    db.session.commit()
    client = signed_in(app, partner)
    html = client.get("/reports/partnership", query_string=q1_args()).get_data(as_text=True)
    assert "fewer than 5" in html
    for table in ("groups-table", "comparison-table", "group-comparison-table"):
        cells = _people_cells(html, table)
        assert cells, table
        assert not any(c.strip() in {"1", "2", "3", "4"} for c in cells), (table, cells)
    # No outlier list and no session links for partners.
    assert "outliers-heading" not in html and "/sessions/" not in html
    data = client.get("/reports/partnership.csv", query_string=q1_args(), buffered=True).get_data()
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    group_row = next(r for r in rows if r and r[0] == "B Wing Readers")
    # Attendances (10, a total: rounded), unique participants and those with 4+ (1 and 0).
    assert group_row[4:7] == ["10", "fewer than 5", "0"]
    compared = next(r for r in rows if r and r[0] == "Unique participants")
    assert "1" not in compared[1:] and "fewer than 5" in compared


def test_protected_group_totals_are_rounded_and_shares_follow_them(fx: Fixture) -> None:
    report = protected(build_report(ReportScope(*Q1)), Disclosure(5))
    one = next(g for g in report.groups if g.name == GROUP1_NAME)
    assert (one.attendances, one.unique_participants, one.retained) == (
        20,
        "fewer than 5",
        "fewer than 5",
    )
    assert one.retention is None  # worked out from the shown figures only
    assert report.outliers == []


# --- Outliers -------------------------------------------------------------------------------


@pytest.fixture
def spiky(factory: Factory) -> dict[str, object]:
    org = factory.organisation(name="Larch Trust", kind="nhs_trust")
    venue = factory.venue(org, name="Larch Ward", setting_type="mental_health_inpatient")
    leader = factory.user("reader_leader")
    usual = factory.group(venue, leader, name="Larch Readers")
    small = factory.group(venue, leader, name="Tiny Readers")
    factory.partnership(org, usual, start_date=date(2025, 1, 1))
    factory.partnership(org, small, start_date=date(2025, 1, 1))
    sessions = {}
    for day, n in ((6, 4), (13, 5), (20, 4), (27, 20), (3, 9)):
        month = 2 if day == 3 else 1
        s = factory.session(usual, start_dt=local(2026, month, day), status="delivered")
        factory.attendance(s, participants=n, first_time=0)
        sessions[n] = s
    # Three times its usual, but only 2 above it: no flag (the absolute margin).
    for day, n in ((7, 1), (14, 1), (21, 3)):
        s = factory.session(small, start_dt=local(2026, 1, day), status="delivered")
        factory.attendance(s, participants=n, first_time=0)
    db.session.commit()
    return {"org": org, "spike": sessions[20], "nine": sessions[9]}


def test_a_session_far_above_its_groups_usual_is_flagged(spiky) -> None:
    report = build_report(ReportScope(*Q1, organisation_id=spiky["org"].id))
    assert [(o.session_id, o.headcount, o.usual) for o in report.outliers] == [
        (spiky["spike"].id, 20, 5.0)
    ]  # median of 4, 4, 5, 9, 20; 9 is not more than twice 5


def test_staff_see_the_flags_with_links_and_the_rule_partners_do_not(
    app: Flask, spiky, factory
) -> None:
    manager = factory.user("manager")
    partner = factory.user("partner_viewer", organisation_id=spiky["org"].id)
    db.session.commit()
    args = q1_args(organisation=str(spiky["org"].id))
    html = (
        signed_in(app, manager)
        .get("/reports/partnership", query_string=args)
        .get_data(as_text=True)
    )
    table = html.split('id="outliers-table"', 1)[1].split("</table>", 1)[0]
    assert f'href="/sessions/{spiky["spike"].id}"' in table
    assert f'/sessions/{spiky["nine"].id}"' not in table
    assert OUTLIER_RULE.split(".")[0] in unescape(html)
    partner_html = signed_in(app, partner).get("/reports/partnership", query_string=args)
    text = partner_html.get_data(as_text=True)
    assert partner_html.status_code == 200
    assert "outliers-table" not in text and "far above" not in text


def test_every_section_has_a_name() -> None:
    assert "outliers" in ALL_SECTIONS and "narrative" in ALL_SECTIONS
