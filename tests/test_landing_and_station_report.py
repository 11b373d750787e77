"""Each role lands where its work is, and a radio station's report shows its radio figures
instead of a row of empty session tiles."""

from __future__ import annotations

from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.exports.partnership_report import build_report
from readerapp.exports.queries import ReportScope
from readerapp.extensions import db
from readerapp.models import Organisation, User

from .exports_fixture import Q1, local
from .factories import Factory
from .world import World, build_world, sign_in_as


@pytest.fixture
def world() -> World:
    return build_world()


def _landing(app: Flask, user: User | None) -> str:
    client = app.test_client()
    sign_in_as(client, user)
    response = client.get("/")
    assert response.status_code == 302
    return response.headers["Location"]


def test_each_role_lands_where_its_work_is(app: Flask, world: World) -> None:
    f = Factory()
    station_user = f.user("partner_viewer", organisation_id=world.station.id)
    db.session.commit()
    assert _landing(app, None).startswith("/sign-in")
    for role in ("admin", "manager", "leader"):
        assert _landing(app, world.user_for(role)) == "/sessions"
    assert _landing(app, world.partner) == "/reports/partnership"
    assert _landing(app, station_user) == f"/radio/stations/{world.station.id}/week"
    # Where each lands answers, and shows the partner its own organisation.
    for user, marker in (
        (world.partner, "Partnership report: Northmoor Trust"),
        (station_user, "Wave Radio"),
    ):
        client = app.test_client()
        sign_in_as(client, user)
        page = client.get("/", follow_redirects=True)
        assert page.status_code == 200 and marker in page.get_data(as_text=True)


def _station_with_broadcasts(f: Factory) -> Organisation:
    station = f.station(name="Wave Radio", prisons_reached=120)
    morning = f.programme(station, title="Morning Readers")
    evening = f.programme(station, title="Evening Readers")
    first = f.broadcast(f.episode(morning), air_dt=local(2026, 2, 1, 9, 0), status="aired")
    f.broadcast(
        first.episode, air_dt=local(2026, 2, 3, 21, 0), status="aired", repeat_of_id=first.id
    )
    f.broadcast(f.episode(evening), air_dt=local(2026, 3, 1, 19, 0), status="aired")
    f.broadcast(f.episode(evening), air_dt=local(2026, 3, 8, 19, 0), status="cancelled")
    f.broadcast(f.episode(evening), air_dt=local(2026, 5, 1, 19, 0), status="aired")
    db.session.commit()
    return station


def test_a_station_report_counts_broadcasts_repeats_programmes_and_reach(
    factory: Factory,
) -> None:
    station = _station_with_broadcasts(factory)
    report = build_report(ReportScope(*Q1, organisation_id=station.id), "Wave Radio")
    assert [tuple(s) for s in report.stations] == [("Wave Radio", 120, 3, 1, 2)]
    assert not report.shows_sessions
    assert report.summary_rows() == [
        ("Broadcasts aired: Wave Radio", 3),
        ("Repeats aired: Wave Radio", 1),
        ("Programmes aired: Wave Radio", 2),
        ("Prisons reached: Wave Radio", 120),
    ]
    # Staff's report over every partner keeps its session figures beside the stations'.
    everyone = build_report(ReportScope(*Q1))
    assert everyone.shows_sessions and ("Sessions planned", 0) in everyone.summary_rows()
    assert ("Repeats aired: Wave Radio", 1) in everyone.summary_rows()
    # A quarter with nothing aired still says so, in zeros of its own.
    quiet = build_report(ReportScope(date(2027, 1, 1), date(2027, 3, 31), station.id))
    assert [tuple(s) for s in quiet.stations] == [("Wave Radio", 120, 0, 0, 0)]


def test_the_station_leads_report_page_omits_the_session_tiles(
    app: Flask, factory: Factory
) -> None:
    station = _station_with_broadcasts(factory)
    lead = factory.user("partner_viewer", organisation_id=station.id)
    db.session.commit()
    client: FlaskClient = app.test_client()
    sign_in_as(client, lead)
    response = client.get(
        "/reports/partnership", query_string={"date_from": "2026-01-01", "date_to": "2026-03-31"}
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Partnership report: Wave Radio" in page
    for label in ("Broadcasts aired", "Repeats aired", "Programmes aired", "Prisons reached"):
        assert f"<dt>{label}: Wave Radio</dt>" in page
    assert "Sessions planned" not in page and "Total attendances" not in page
    assert "Month by month" not in page and "Cancellations" not in page
    assert "What was read" not in page
    assert '<td class="num" data-label="Repeats">1</td>' in page
