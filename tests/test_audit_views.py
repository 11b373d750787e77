"""Admins browse, filter and export the audit trail; nobody can change it through the app."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.audit import acting_as
from readerapp.audit.models import AuditEvent
from readerapp.audit.queries import PAGE_SIZE
from readerapp.extensions import db
from readerapp.timeutil import to_local, utcnow

from .audit_support import deferred_reads  # noqa: F401  (fixture)
from .factories import Factory
from .world import sign_in_as

pytestmark = pytest.mark.usefixtures("deferred_reads")


def _admin(factory: Factory, client: FlaskClient):
    admin = factory.user("admin", email="auditor@example.org")
    db.session.commit()
    sign_in_as(client, admin)
    db.session.rollback()
    return admin


def test_admin_filters_by_entity_type_action_and_actor(
    client: FlaskClient, factory: Factory
) -> None:
    with acting_as("system:scheduler"):
        factory.group(name="Alder Readers")
        db.session.commit()
    factory.organisation(name="Quiet Org")
    db.session.commit()
    _admin(factory, client)
    page = client.get("/audit?entity_type=group&action=create&actor=scheduler")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "system:scheduler" in text and "Alder Readers" in text
    assert "Quiet Org" not in text
    none = client.get("/audit?entity_type=group&actor=nobody-at-all")
    assert "No entries match" in none.get_data(as_text=True)


def test_date_range_is_in_local_dates(client: FlaskClient, factory: Factory) -> None:
    factory.group(name="Dated Group")
    db.session.commit()
    _admin(factory, client)
    today = to_local(utcnow()).date()
    hit = client.get(f"/audit?entity_type=group&date_from={today}&date_to={today}")
    assert "Dated Group" in hit.get_data(as_text=True)
    later = today + timedelta(days=1)
    miss = client.get(f"/audit?entity_type=group&date_from={later}")
    assert "Dated Group" not in miss.get_data(as_text=True)


def test_bad_filters_are_refused_with_a_message(client: FlaskClient, factory: Factory) -> None:
    _admin(factory, client)
    bad_date = client.get("/audit?date_from=31/02/2026")
    assert bad_date.status_code == 400
    assert "There is a problem" in bad_date.get_data(as_text=True)
    backwards = client.get("/audit?date_from=2026-05-02&date_to=2026-05-01")
    assert backwards.status_code == 400
    assert "on or after" in backwards.get_data(as_text=True)
    assert client.get("/audit?action=forge").status_code == 400
    assert client.get("/audit/export.csv?page=0").status_code == 400


def test_pages_newest_first(client: FlaskClient, factory: Factory) -> None:
    for n in range(PAGE_SIZE + 3):  # each commit its own action
        factory.organisation(name=f"Org {n:03d}")
        db.session.commit()
    _admin(factory, client)
    first = client.get("/audit?entity_type=organisation").get_data(as_text=True)
    assert f"Org {PAGE_SIZE + 2:03d}" in first and "Org 000" not in first
    assert "Older entries" in first
    second = client.get("/audit?entity_type=organisation&page=2").get_data(as_text=True)
    assert "Org 000" in second and "Newer entries" in second


def test_csv_export_is_complete_and_safe_for_spreadsheets(
    client: FlaskClient, factory: Factory
) -> None:
    with acting_as("=HYPERLINK(1)"):
        factory.group(name="=cmd|' /C calc'!A0")
        db.session.commit()
    _admin(factory, client)
    response = client.get("/audit/export.csv?entity_type=group")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][:3] == ["id", "at_utc", "actor"]
    assert len(rows) == 2
    assert rows[1][2] == "'=HYPERLINK(1)"
    assert all(not cell.startswith("=") for cell in rows[1])


def test_csv_export_streams_every_row(app: Flask, client: FlaskClient, factory: Factory) -> None:
    from readerapp.audit import queries

    for n in range(7):
        factory.organisation(name=f"Streamed {n}")
    db.session.commit()
    _admin(factory, client)
    expected = db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    db.session.rollback()
    lines = list(queries.csv_lines(queries.AuditFilter(), batch=3))
    body = "".join(lines)
    assert len(list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))) == expected + 1
    assert len(lines) > 3  # really in batches


def test_no_route_changes_the_trail(app: Flask) -> None:
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("audit."):
            assert (rule.methods or set()) <= {"GET", "HEAD", "OPTIONS"}, rule
