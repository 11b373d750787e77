"""Small-number protection: a small ward group (three registered participants) seen by its
partner on the report page, its CSV and XLSX, the attendance exports, the API and the group
page carries no count of people from 1 to 4; totals do not give a suppressed count back; staff
and the group's leader see the real figures."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass

import openpyxl
import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.api.tokens import create_token
from readerapp.config import ConfigError
from readerapp.config import load as load_settings
from readerapp.disclosure import Disclosure
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup

from .factories import Factory, aware
from .world import sign_in_as

FEWER = "fewer than 5"
Q1 = {"date_from": "2026-01-01", "date_to": "2026-03-31"}
# Headcounts and first-timers of the ward's delivered sessions, by local date. March has one
# small session beside a larger one: the month's total must not give the small one back.
SESSIONS = {
    (1, 13): (3, 3),
    (1, 20): (3, 0),
    (2, 3): (2, 0),
    (2, 10): (3, 0),
    (3, 3): (9, 0),
    (3, 10): (2, 0),
}
REAL_ATTENDANCES = sum(n for n, _ in SESSIONS.values())  # 22


@dataclass
class Ward:
    organisation_id: int
    group_id: int
    session_ids: list[int]
    partner: object
    manager: object
    leader: object


@pytest.fixture
def ward(factory: Factory) -> Ward:
    trust = factory.organisation(name="Northmoor Hospitals Trust")
    leader = factory.user("reader_leader")
    group = factory.group(factory.venue(trust), leader=leader, name="Larch Ward Readers")
    factory.partnership(trust, group)
    people = [factory.participant(trust) for _ in range(3)]
    ids = []
    for (month, day), (participants, first_time) in SESSIONS.items():
        session = factory.session(
            group, start_dt=aware(2026, month, day, 10, 30), status="delivered"
        )
        factory.attendance(session, participants=participants, first_time=first_time)
        for person in people[: min(participants, 3)]:
            factory.register(session, person, first_time=(month, day) == (1, 13))
        ids.append(session.id)
    ward = Ward(
        trust.id,
        group.id,
        ids,
        factory.user("partner_viewer", organisation_id=trust.id),
        factory.user("manager"),
        leader,
    )
    db.session.commit()
    return ward


def client_as(app: Flask, user: object) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    db.session.rollback()
    return client


def small(value: object) -> bool:
    """A count from 1 to 4, as a number or as the text of one."""
    text = str(value).strip()
    return text.isdigit() and 1 <= int(text) <= 4


# --- The rule --------------------------------------------------------------------------------


def test_the_rule() -> None:
    partner = Disclosure(5)
    assert [partner.cell(n) for n in (0, 1, 4, 5, 6, None)] == [0, FEWER, FEWER, 5, 6, None]
    assert [partner.total(n) for n in (0, 3, 5, 7, 8, 22, 23)] == [0, FEWER, 5, 5, 10, 20, 25]
    assert Disclosure(5, machine=True).cell(2) == "<5"
    assert partner.ratio(FEWER, 10) is None and partner.ratio(5, 10) == 0.5
    real = Disclosure()
    assert (real.cell(3), real.total(22), real.note) == (3, 22, None)
    assert Disclosure(1).cell(1) == 1  # a threshold of 1 protects nothing


@pytest.mark.parametrize("value", ["0", "-1", "many"])
def test_threshold_setting_is_checked(tmp_path, value: str, monkeypatch) -> None:
    monkeypatch.setenv("READERAPP_SMALL_NUMBER_THRESHOLD", value)
    with pytest.raises((ConfigError, ValueError)):
        load_settings(tmp_path, {"SECRET_KEY": "x" * 32, "DATABASE_URL": "sqlite://"})


# --- The partnership report ------------------------------------------------------------------


def report_summary(html: str) -> dict[str, str]:
    return dict(re.findall(r"<div><dt>([^<]+)</dt><dd>([^<]*)</dd></div>", html))


def test_partner_report_page_protects_people(app: Flask, ward: Ward) -> None:
    html = client_as(app, ward.partner).get("/reports/partnership", query_string=Q1).text
    figures = report_summary(html)
    assert figures["Total attendances"] == "20"  # 22, rounded
    assert figures["Unique participants (registered by code)"] == FEWER
    assert figures["First-time attendances"] == FEWER
    assert figures["Participants with 4+ sessions"] == FEWER
    assert figures["Retention (share with 4+ sessions)"] == "—"
    assert figures["Sessions delivered"] == "6"  # sessions are not people
    assert 'id="small-numbers-note"' in html
    month_table = html.split('aria-labelledby="months-heading"', 1)[1].split("</table>", 1)[0]
    months = re.findall(r'data-label="Attendances">([^<]*)</td>', month_table)
    assert months == ["5", "5", "10"]  # Jan 6, Feb 5, Mar 11, each rounded
    # March: 10 shown, less the 9 of the large session, is not the small one's 2.
    assert int(months[2]) - 9 != 2
    # The chart says what the table says, and no more.
    assert "Jan 2026 5" in html and f"Attendances, Mar 2026: {10}" in html
    for value in figures.values():
        assert not small(value)


def test_partner_report_downloads_protect_people(app: Flask, ward: Ward) -> None:
    client = client_as(app, ward.partner)
    text = client.get("/reports/partnership.csv", query_string=Q1).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    summary = {row[0]: row[1] for row in rows if len(row) == 2}
    assert summary["Total attendances"] == "20"
    assert summary["Unique participants (registered by code)"] == FEWER
    assert summary["First-time attendances"] == FEWER
    month_rows = [row for row in rows if len(row) == 7 and re.fullmatch(r"2026-0\d", row[0])]
    assert [row[-1] for row in month_rows] == ["5", "5", "10"]
    assert any("fewer than 5" in row[0] for row in rows if len(row) == 1)  # the note

    data = client.get("/reports/partnership.xlsx", query_string=Q1, buffered=True).get_data()
    book = openpyxl.load_workbook(io.BytesIO(data))
    cells = {row[0]: row[1] for row in book["Summary"].iter_rows(values_only=True) if row[0]}
    assert cells["Total attendances"] == 20
    assert cells["Unique participants (registered by code)"] == FEWER
    assert cells["Participants with 4+ sessions"] == FEWER
    months = [row[-1] for row in book["By month"].iter_rows(min_row=2, values_only=True)]
    assert months == [5, 5, 10]


def test_staff_see_the_real_report(app: Flask, ward: Ward) -> None:
    args = Q1 | {"organisation": str(ward.organisation_id)}
    html = client_as(app, ward.manager).get("/reports/partnership", query_string=args).text
    figures = report_summary(html)
    assert figures["Total attendances"] == str(REAL_ATTENDANCES)
    assert figures["Unique participants (registered by code)"] == "3"
    assert figures["First-time attendances"] == "3"
    month_table = html.split('aria-labelledby="months-heading"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-label="Attendances">([^<]*)</td>', month_table) == ["6", "5", "11"]
    group_table = html.split('id="groups-table"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r'data-label="Attendances">([^<]*)</td>', group_table) == ["22"]
    assert 'id="small-numbers-note"' not in html


# --- Attendance exports ----------------------------------------------------------------------


def export_csv(client: FlaskClient, columns: str) -> list[dict[str, str]]:
    args = Q1 | {"format": "csv", "columns": columns}
    text = client.get("/exports/attendance", query_string=args).get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


def test_partner_exports_protect_people(app: Flask, ward: Ward, factory: Factory) -> None:
    group = db.session.get(ReadingGroup, ward.group_id)
    factory.session(group, start_dt=aware(2026, 3, 17, 10, 30))  # not logged: no counts at all
    db.session.commit()
    client = client_as(app, ward.partner)
    human = export_csv(client, "human")
    assert [r["Participants"] for r in human] == [FEWER] * 4 + ["9", FEWER, ""]
    human = human[:-1]
    assert {r["First-time participants"] for r in human} == {FEWER, "0"}
    assert [r["Staff and carers"] for r in human] == ["1"] * 6  # staff are not protected
    machine = export_csv(client, "machine")
    assert [r["participants"] for r in machine] == ["<5"] * 4 + ["9", "<5", ""]

    args = Q1 | {"format": "xlsx", "columns": "human"}
    data = client.get("/exports/attendance", query_string=args, buffered=True).get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [c.value for c in sheet[1]]
    at = header.index("Participants")
    values = [row[at] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert values == [FEWER] * 4 + [9, FEWER, None]

    args = Q1 | {"format": "json", "columns": "machine"}
    rows = client.get("/exports/attendance", query_string=args).get_json()
    assert [r["participants"] for r in rows] == ["<5"] * 4 + [9, "<5", None]
    assert {r["first_time"] for r in rows} == {"<5", 0, None}


def test_staff_export_real_counts(app: Flask, ward: Ward) -> None:
    rows = export_csv(client_as(app, ward.manager), "machine")
    assert [r["participants"] for r in rows] == [str(n) for n, _ in SESSIONS.values()]


# --- The API -------------------------------------------------------------------------------


def test_api_attendance_and_export(app: Flask, ward: Ward) -> None:
    partner = {"Authorization": f"Bearer {create_token(ward.partner).secret}"}
    manager = {"Authorization": f"Bearer {create_token(ward.manager).secret}"}
    db.session.commit()
    client = app.test_client()
    url = f"/api/v1/sessions/{ward.session_ids[0]}/attendance"
    answer = client.get(url, headers=partner).get_json()
    assert (answer["participants"], answer["first_time"], answer["register"]) == ("<5", "<5", None)
    assert client.get(url, headers=manager).get_json()["participants"] == 3
    args = {"from": "2026-01-01", "to": "2026-03-31", "format": "json"}
    rows = client.get("/api/v1/exports/attendance", query_string=args, headers=partner).get_json()
    assert [r["Participants"] for r in rows] == [FEWER] * 4 + [9, FEWER]


# --- Pages -----------------------------------------------------------------------------------


def test_group_page(app: Flask, ward: Ward) -> None:
    html = client_as(app, ward.partner).get(f"/groups/{ward.group_id}").text
    cells = re.findall(r'data-label="(?:Participants|First time)">([^<]*)</td>', html)
    assert cells and not any(small(c) for c in cells)
    assert FEWER in html
    leader = client_as(app, ward.leader).get(f"/groups/{ward.group_id}").text
    assert '<td class="num" data-label="Participants">3</td>' in leader


def test_session_page(app: Flask, ward: Ward) -> None:
    url = f"/sessions/{ward.session_ids[0]}"
    partner = client_as(app, ward.partner).get(url)
    assert partner.status_code == 200
    assert "<dt>Participants</dt><dd>fewer than 5</dd>" in partner.text
    assert "<dt>First time</dt><dd>fewer than 5</dd>" in partner.text
    leader = client_as(app, ward.leader).get(url).text
    assert "<dt>Participants</dt><dd>3</dd>" in leader
