"""The partnership report: hand-counted figures, charts that say what they show, downloads, and
partners held to their own organisation."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import UTC, date, datetime

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.exports.partnership_report import build_report, current_quarter, zone_today
from readerapp.exports.queries import ReportScope
from readerapp.extensions import db

from . import exports_fixture
from .exports_fixture import CANCEL_REASON, Q1, Fixture, local
from .factories import Factory
from .world import sign_in_as

LATE = "Logs entered late from paper (share of delivered)"


@pytest.fixture
def fx() -> Fixture:
    return exports_fixture.build()


def test_one_partner_hand_counted(fx: Fixture) -> None:
    report = build_report(ReportScope(*Q1, organisation_id=fx.org1.id), "Northmoor")
    assert (report.planned, report.delivered, report.cancelled) == (6, 4, 1)
    assert report.reasons == [(CANCEL_REASON, 1)]
    assert report.attendances == 5 + 4 + 6 + 3
    assert report.first_time == 2 + 1
    assert report.mean_group_size == pytest.approx(18 / 4)
    assert report.unique_participants == 3  # P1, P2, P3
    assert report.retained == 1  # only P1 came 4 times
    assert report.retention == pytest.approx(1 / 3)
    assert [(m.month, m.planned, m.delivered, m.attendances) for m in report.months] == [
        ("2026-01", 3, 2, 9),
        ("2026-02", 2, 2, 9),
        ("2026-03", 1, 0, 0),
    ]
    assert sorted(report.texts) == [
        ("=Danger", "A. Poet", 1),
        ("The Happy Prince", "Oscar Wilde", 1),
    ]
    assert report.stations == []


def test_the_share_of_logs_entered_late_from_paper(fx: Fixture) -> None:
    scope = ReportScope(*Q1, organisation_id=fx.org1.id)
    assert dict(build_report(scope).summary_rows())[LATE] == 0
    fx.sessions["s1"].entered_late_at = datetime(2026, 1, 20, 9, 0, tzinfo=UTC)
    # Only delivered sessions count: a cancelled one marked late is not in the share.
    cancelled = next(s for s in fx.sessions.values() if s.status == "cancelled")
    cancelled.entered_late_at = datetime(2026, 1, 21, 9, 0, tzinfo=UTC)
    db.session.commit()
    report = build_report(scope)
    assert report.entered_late == 1 and report.late_entry_share == pytest.approx(1 / 4)
    assert dict(report.summary_rows())[LATE] == 0.25


def test_planned_splits_into_four_parts_that_add_up(fx: Fixture) -> None:
    """s6 (3 March, never logged) is still to come before it starts and not yet logged after:
    never a missed session, and the parts always add up to planned."""
    scope = ReportScope(*Q1, organisation_id=fx.org1.id, as_of=datetime(2026, 3, 1, tzinfo=UTC))
    before = build_report(scope)
    assert before.parts() == [
        ("delivered", 4),
        ("cancelled", 1),
        ("not_yet_logged", 0),
        ("to_come", 1),
    ]
    after = build_report(replace(scope, as_of=datetime(2026, 3, 4, tzinfo=UTC)))
    assert after.parts()[2:] == [("not_yet_logged", 1), ("to_come", 0)]
    march = after.months[-1]
    assert (march.month, march.planned, march.not_yet_logged, march.to_come) == (
        "2026-03",
        1,
        1,
        0,
    )
    for report in (before, after):
        assert sum(n for _, n in report.parts()) == report.planned == 6
    rows = dict(after.summary_rows())
    assert rows["Sessions not yet logged"] == 1 and rows["Sessions still to come"] == 0


def test_all_partners_and_local_quarter_edges(fx: Fixture) -> None:
    report = build_report(ReportScope(*Q1))
    # s7 and s9 (23:30 BST on 31 March) join; s10 (00:30 BST on 1 April) is next quarter.
    assert (report.planned, report.delivered, report.cancelled) == (8, 6, 1)
    assert report.attendances == 18 + 8 + 2
    assert report.unique_participants == 4
    assert report.texts[0] == ("The Happy Prince", "Oscar Wilde", 2)
    assert report.authors[0] == ("Oscar Wilde", 2)
    assert report.months[-1].month == "2026-03" and report.months[-1].delivered == 1
    april = build_report(ReportScope(date(2026, 4, 1), date(2026, 6, 30)))
    assert (april.planned, april.attendances) == (1, 7)


def test_radio_partner_broadcasts_and_reach(factory: Factory) -> None:
    station = factory.station(name="Wave Radio", prisons_reached=120)
    episode = factory.episode(factory.programme(station))
    factory.broadcast(episode, air_dt=local(2026, 2, 1, 19, 0), status="aired")
    factory.broadcast(episode, air_dt=local(2026, 2, 1, 21, 0), status="aired")
    factory.broadcast(
        episode, air_dt=local(2026, 2, 8, 19, 0), status="cancelled", cancellation_reason="Off air"
    )
    factory.broadcast(episode, air_dt=local(2026, 5, 1, 19, 0), status="aired")
    db.session.commit()
    report = build_report(ReportScope(*Q1, organisation_id=station.id), "Wave Radio")
    assert [tuple(s) for s in report.stations] == [("Wave Radio", 120, 2, 0, 1)]
    assert ("Broadcasts aired: Wave Radio", 2) in report.summary_rows()
    assert ("Prisons reached: Wave Radio", 120) in report.summary_rows()


def test_an_empty_period_has_no_numbers_to_divide() -> None:
    report = build_report(ReportScope(date(2030, 1, 1), date(2030, 3, 31)))
    assert report.planned == 0 and report.mean_group_size is None and report.retention is None
    assert report.months == []


def test_current_quarter() -> None:
    assert current_quarter(date(2026, 11, 29)) == (
        date(2026, 10, 1),
        date(2026, 12, 31),
    )
    assert current_quarter(date(2026, 2, 28)) == (
        date(2026, 1, 1),
        date(2026, 3, 31),
    )
    assert current_quarter(date(2026, 6, 30)) == (
        date(2026, 4, 1),
        date(2026, 6, 30),
    )


# --- the page ------------------------------------------------------------------------------


def signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    db.session.rollback()
    return client


def q1_args(**kw: str) -> dict[str, str]:
    return {"date_from": "2026-01-01", "date_to": "2026-03-31"} | kw


def test_page_shows_figures_and_accessible_charts(app: Flask, fx: Fixture, factory) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = signed_in(app, manager)
    response = client.get(
        "/reports/partnership", query_string=q1_args(organisation=str(fx.org1.id))
    )
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Partnership report: Northmoor Trust" in html
    assert html.count('role="img"') == 2
    assert '<title id="chart-attendance-title">' in html and "<desc id=" in html
    assert "Jan 2026 9" in html  # the description carries the figures
    assert "style=" not in html.split("<svg", 1)[1].rsplit("</svg>", 1)[0]
    assert "<script" not in html
    # The figures as a table, beside the charts.
    assert '<table aria-labelledby="months-heading"' in html
    assert "-Ward closed" in html
    # "P1" can occur inside a random form token ([\w.-]), so it is looked for standing alone.
    assert "Secret Person" not in html and not re.search(r"(?<![\w.-])P1(?![\w.-])", html)
    # The month table splits what was planned; s6 (3 March) has passed without a log.
    assert '<th scope="col" class="num">Not yet logged</th>' in html
    assert re.search(r"Sessions not yet logged</dt><dd>1<", html)


def test_page_without_data_says_so(app: Flask, factory) -> None:
    admin = factory.user("admin")
    db.session.commit()
    html = (
        signed_in(app, admin)
        .get(
            "/reports/partnership",
            query_string={"date_from": "2030-01-01", "date_to": "2030-03-31"},
        )
        .get_data(as_text=True)
    )
    assert "nothing to chart" in html and "<svg" not in html


def test_default_period_is_the_current_quarter(app: Flask, factory) -> None:
    admin = factory.user("admin")
    db.session.commit()
    html = signed_in(app, admin).get("/reports/partnership").get_data(as_text=True)
    start, end = current_quarter(zone_today(exports_fixture.LONDON))
    assert f'value="{start.isoformat()}"' in html and f'value="{end.isoformat()}"' in html


def test_csv_and_xlsx_downloads(app: Flask, fx: Fixture, factory) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = signed_in(app, manager)
    args = q1_args(organisation=str(fx.org1.id))
    response = client.get("/reports/partnership.csv", query_string=args, buffered=True)
    assert response.status_code == 200
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert ["Sessions delivered", "4"] in rows
    assert ["'" + CANCEL_REASON, "1"] in rows  # neutralised
    assert ["'=Danger", "A. Poet", "1"] in rows
    response = client.get("/reports/partnership.xlsx", query_string=args, buffered=True)
    book = openpyxl.load_workbook(io.BytesIO(response.get_data()))
    summary = {r[0]: r[1] for r in book["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Total attendances"] == 18 and isinstance(summary["Total attendances"], int)
    assert book["Summary"].freeze_panes == "A2"
    assert book["Cancellations"]["A2"].value == "'" + CANCEL_REASON
    assert all(c.data_type != "f" for s in book for row in s.iter_rows() for c in row)


def test_partner_sees_only_their_own_organisation(app: Flask, fx: Fixture, factory) -> None:
    partner = factory.user("partner_viewer", organisation_id=fx.org2.id)
    db.session.commit()
    client = signed_in(app, partner)
    html = client.get("/reports/partnership", query_string=q1_args()).get_data(as_text=True)
    assert "Partnership report: @Elsewhere Prison" in html
    assert "All partners" not in html and "Northmoor Trust" not in html
    delivered = re.search(r"Sessions delivered</dt><dd>(\d+)", html)
    assert delivered and delivered.group(1) == "2"
    for url in ("/reports/partnership", "/reports/partnership.csv", "/reports/partnership.xlsx"):
        response = client.get(url, query_string=q1_args(organisation=str(fx.org1.id)))
        assert response.status_code == 403, url


@pytest.mark.parametrize(
    "args, message",
    [
        ({"date_from": "2026-13-01"}, "Not a valid date"),
        ({"date_to": "2026-02-29"}, "Not a valid date"),
        ({"date_from": "2026-04-01", "date_to": "2026-03-01"}, "on or after the From date"),
        ({"organisation": "424242"}, "Not a valid choice"),
    ],
)
@pytest.mark.parametrize("url", ["/reports/partnership", "/reports/partnership.csv"])
def test_bad_input_is_an_inline_400(
    app: Flask, factory, url: str, args: dict[str, str], message: str
) -> None:
    admin = factory.user("admin")
    db.session.commit()
    response = signed_in(app, admin).get(url, query_string=q1_args(**args))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
