"""The two column sets of an export: words for people by default, machine names on request, in
every format and on every path (the library, the command line, the web form and its address).
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, date, datetime, time

import openpyxl
import pytest
from flask import Flask

from readerapp.exports import streaming
from readerapp.exports.queries import SESSION_COLUMNS, ExportFilters
from readerapp.extensions import db

from . import exports_fixture
from .exports_fixture import GROUP1_NAME, Q1, ROOM1, Fixture
from .world import sign_in_as

ZONE = "Europe/London"
HUMAN_HEADERS = [
    "Session ID",
    "Date",
    f"Start time ({ZONE})",
    "Group",
    "Room or ward",
    "Venue",
    "Organisation",
    "Setting",
    "Reader leader",
    "Status",
    "Cancellation reason",
    "Participants",
    "First-time participants",
    "Staff and carers",
    "Volunteers",
    "What was read",
]
# Mid-March: s6 (3 March, never logged) is overdue; s9 (31 March) is logged already.
AS_OF = datetime(2026, 3, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def fx() -> Fixture:
    return exports_fixture.build()


def q1(**kw: object) -> ExportFilters:
    return ExportFilters(Q1[0], Q1[1], as_of=AS_OF, **kw)  # type: ignore[arg-type]


def export(filters: ExportFilters, fmt: str) -> bytes:
    out = io.BytesIO()
    streaming.write_export(filters, fmt, out)
    return out.getvalue()


def csv_table(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_csv_in_words_by_default(fx: Fixture) -> None:
    header, *rows = csv_table(export(q1(), "csv"))
    assert header == HUMAN_HEADERS
    by_id = {int(r[0]): dict(zip(header, r, strict=True)) for r in rows}
    s1 = by_id[fx.sessions["s1"].id]
    assert s1["Setting"] == "Mental health inpatient"
    assert s1["Status"] == "Delivered"
    assert (s1["Date"], s1[f"Start time ({ZONE})"]) == ("2026-01-06", "10:30")
    assert s1["Group"] == "'" + GROUP1_NAME  # still neutralised, quotes intact
    assert by_id[fx.sessions["s3"].id]["Status"] == "Cancelled"
    assert by_id[fx.sessions["s6"].id]["Status"] == "Not yet logged"
    assert by_id[fx.sessions["s7"].id]["Setting"] == "Prison"
    # No stored "scheduled" anywhere in words; "Still to come" once the clock is before s6.
    assert "scheduled" not in {r[9] for r in rows}
    early = ExportFilters(Q1[0], Q1[1], as_of=datetime(2026, 3, 1, tzinfo=UTC))
    early_rows = csv_table(export(early, "csv"))[1:]
    assert {r[0]: r[9] for r in early_rows}[str(fx.sessions["s6"].id)] == "Still to come"


def test_machine_columns_keep_the_names_and_values(fx: Fixture) -> None:
    header, *rows = csv_table(export(q1(columns="machine"), "csv"))
    assert header == list(SESSION_COLUMNS) and header[-2:] == ["state", "room"]
    s6 = dict(zip(header, next(r for r in rows if r[0] == str(fx.sessions["s6"].id)), strict=True))
    assert (s6["setting_type"], s6["status"], s6["state"]) == (
        "mental_health_inpatient",
        "scheduled",
        "not_yet_logged",
    )


def test_per_participant_rows_in_words(fx: Fixture) -> None:
    header, *rows = csv_table(export(q1(per_participant=True), "csv"))
    assert header[-2:] == ["Participant code", "First time"]
    assert {r[-1] for r in rows} == {"Yes", "No"}
    assert sum(r[-1] == "Yes" for r in rows) == 4  # P1, P2, P3 and Q1 first came
    header, *rows = csv_table(export(q1(per_participant=True, columns="machine"), "csv"))
    assert header[-3:] == ["participant_code", "first_time", "room"]
    assert {r[-2] for r in rows} == {"1", "0"}


def test_json_in_words_and_machine_names(fx: Fixture) -> None:
    words = json.loads(export(q1(), "json"))
    assert list(words[0]) == HUMAN_HEADERS
    assert words[0]["Participants"] == 5 and words[0]["Setting"] == "Mental health inpatient"
    machine = json.loads(export(q1(columns="machine"), "json"))
    assert list(machine[0]) == list(SESSION_COLUMNS)
    assert machine[0]["setting_type"] == "mental_health_inpatient"


def test_xlsx_in_words_has_real_dates_and_times_a_filter_and_widths(fx: Fixture) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(export(q1(), "xlsx"))).active
    header = [c.value for c in sheet[1]]
    assert header == HUMAN_HEADERS
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == "A1:P9"  # the header and the 8 sessions, every column
    first = dict(zip(header, sheet[2], strict=True))
    assert first["Date"].is_date and first["Date"].value.date() == date(2026, 1, 6)
    start = first[f"Start time ({ZONE})"]
    assert start.is_date and start.value == time(10, 30)
    assert first["Participants"].data_type == "n" and first["Participants"].value == 5
    assert first["Status"].value == "Delivered"
    widths = {
        name: sheet.column_dimensions[cell.column_letter].width
        for name, cell in zip(header, sheet[1], strict=True)
    }
    # Wide enough for the header, and for the longest value of a text column.
    assert all(widths[name] >= len(name) for name in header)
    assert widths["Setting"] >= len("Mental health inpatient")
    assert widths["What was read"] >= len("The Happy Prince — Oscar Wilde")
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_xlsx_with_machine_names(fx: Fixture) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(export(q1(columns="machine"), "xlsx"))).active
    header = [c.value for c in sheet[1]]
    assert header == list(SESSION_COLUMNS)
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:Q9"
    first = dict(zip(header, sheet[2], strict=True))
    assert first["date"].is_date
    assert first["start_time"].value == "10:30"  # text, as scripts have read it
    assert first["setting_type"].value == "mental_health_inpatient"


def test_an_empty_xlsx_still_has_its_header_and_filter() -> None:
    empty = ExportFilters(date(2030, 1, 1), date(2030, 1, 2))
    sheet = openpyxl.load_workbook(io.BytesIO(export(empty, "xlsx"))).active
    assert [c.value for c in sheet[1]] == HUMAN_HEADERS
    assert sheet.auto_filter.ref == "A1:P1" and sheet.max_row == 1


def run_cli(app: Flask, tmp_path, *args: str):  # type: ignore[no-untyped-def]
    out = tmp_path / "out.csv"
    result = app.test_cli_runner().invoke(
        args=[
            "export",
            "attendance",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            *args,
            "--output",
            str(out),
        ]
    )
    return result, out


def test_command_line_words_by_default_machine_on_request(
    app: Flask, fx: Fixture, tmp_path
) -> None:
    result, out = run_cli(app, tmp_path)
    assert result.exit_code == 0, result.output
    assert csv_table(out.read_bytes())[0] == HUMAN_HEADERS
    result, out = run_cli(app, tmp_path, "--columns", "machine")
    assert result.exit_code == 0, result.output
    assert csv_table(out.read_bytes())[0] == list(SESSION_COLUMNS)
    result, _ = run_cli(app, tmp_path, "--columns", "robots")
    assert result.exit_code == 2 and "robots" in result.output


def test_web_form_and_address(app: Flask, fx: Fixture, factory) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = app.test_client()
    sign_in_as(client, manager)
    db.session.rollback()
    page = client.get("/exports/").get_data(as_text=True)
    assert re.search(r'<input checked[^>]* name="columns"[^>]* value="human"', page)
    assert re.search(r'<input (?!checked)[^>]*name="columns"[^>]* value="machine"', page)
    args = {"date_from": "2026-01-01", "date_to": "2026-03-31", "format": "csv"}
    # An address written before there was a choice gets the words, as the form does.
    response = client.get("/exports/attendance", query_string=args)
    assert response.status_code == 200
    assert csv_table(response.get_data())[0] == HUMAN_HEADERS
    response = client.get("/exports/attendance", query_string=args | {"columns": "machine"})
    assert csv_table(response.get_data())[0] == list(SESSION_COLUMNS)
    response = client.get(
        "/exports/attendance", query_string=args | {"columns": "machine", "format": "xlsx"}
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.cell(1, 1).value == "session_id" and sheet.auto_filter.ref == "A1:Q9"


# --- the API ----------------------------------------------------------------------------------


def api_get(client, user, **query: str):  # type: ignore[no-untyped-def]
    from readerapp.api.tokens import create_token

    secret = create_token(user).secret
    db.session.commit()
    return client.get(
        "/api/v1/exports/attendance",
        headers={"Authorization": f"Bearer {secret}"},
        query_string={"from": "2026-01-01", "to": "2026-03-31"} | query,
    )


def test_api_exports_both_column_sets(app: Flask, fx: Fixture, factory) -> None:
    from readerapp.audit.models import AuditEvent

    manager = factory.user("manager")
    db.session.commit()
    client = app.test_client()
    response = api_get(client, manager)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = csv_table(response.get_data())
    assert header == HUMAN_HEADERS and len(rows) == 8
    header, *_ = csv_table(api_get(client, manager, columns="machine").get_data())
    assert header == list(SESSION_COLUMNS)
    book = api_get(client, manager, format="xlsx", columns="machine").get_data()
    sheet = openpyxl.load_workbook(io.BytesIO(book)).active
    assert sheet.auto_filter.ref == "A1:Q9" and sheet.freeze_panes == "A2"
    words = json.loads(api_get(client, manager, format="json").get_data())
    assert words[0]["Setting"] == "Mental health inpatient"
    # Any dates are accepted: the whole calendar holds every session, a range that ends before
    # it starts holds none.
    whole_calendar = {"from": "0001-01-01", "to": "9999-12-31"}
    everything = csv_table(api_get(client, manager, **whole_calendar).get_data())
    assert len(everything) == 1 + 9
    backwards = api_get(client, manager, **{"from": "2026-03-31", "to": "2026-01-01"})
    assert backwards.status_code == 200 and csv_table(backwards.get_data()) == [HUMAN_HEADERS]
    assert api_get(client, manager, columns="robots").status_code == 422
    codes = csv_table(api_get(client, manager, per_participant="true").get_data())
    assert codes[0][-2:] == ["Participant code", "First time"] and len(codes) == 1 + 9
    db.session.rollback()
    events = db.session.query(AuditEvent).filter(AuditEvent.action == "export").all()
    assert [(e.actor_id, e.changes["via"]) for e in events] == [(manager.id, "API")]


def test_api_exports_hold_partners_to_their_own(app: Flask, fx: Fixture, factory) -> None:
    partner = factory.user("partner_viewer", organisation_id=fx.org2.id)
    db.session.commit()
    client = app.test_client()
    rows = csv_table(api_get(client, partner, columns="machine").get_data())[1:]
    assert [r[0] for r in rows] == [str(fx.sessions[n].id) for n in ("s7", "s9")]
    assert api_get(client, partner, organisation_id=str(fx.org1.id)).status_code == 403
    assert api_get(client, partner, per_participant="true").status_code == 403
    assert api_get(client, fx.leader1).status_code == 403


# --- a group's room or ward -------------------------------------------------------------------


def _rooms(data: bytes, room: str, group: str) -> dict[str, str]:
    """Each group's room or ward, read from a CSV export by the named columns."""
    header, *rows = csv_table(data)
    return {r[header.index(group)]: r[header.index(room)] for r in rows}


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
@pytest.mark.parametrize("per_participant", [False, True])
def test_the_groups_room_in_both_column_sets(fx: Fixture, fmt: str, per_participant: bool) -> None:
    for columns, room, group in (("human", "Room or ward", "Group"), ("machine", "room", "group")):
        filters = q1(columns=columns, per_participant=per_participant, every_room=True)
        data = export(filters, fmt)
        if fmt == "csv":
            header, *rows = csv_table(data)
        elif fmt == "json":
            records = json.loads(data)
            header = list(records[0])
            rows = [[r[name] for name in header] for r in records]
        else:
            sheet = openpyxl.load_workbook(io.BytesIO(data)).active
            header, *rows = ([c.value for c in row] for row in sheet.iter_rows())
        # Beside the group in words; last by machine names, where scripts do not look for it.
        if columns == "human":
            assert header[header.index(group) + 1] == room
        else:
            assert header[-1] == room
        found = {r[header.index(group)]: r[header.index(room)] for r in rows}
        assert found["'" + GROUP1_NAME] == ROOM1
        assert found["B Wing Readers"] in ("", None)


def test_a_partner_reads_a_room_only_where_its_organisation_shares_it(
    app: Flask, fx: Fixture, factory
) -> None:
    partner = factory.user("partner_viewer", organisation_id=fx.org1.id)
    manager = factory.user("manager")
    db.session.commit()
    client = app.test_client()
    for columns, room, group in (("human", "Room or ward", "Group"), ("machine", "room", "group")):
        rooms = _rooms(api_get(client, partner, columns=columns).get_data(), room, group)
        assert rooms == {"'" + GROUP1_NAME: ""}
        staff = _rooms(api_get(client, manager, columns=columns).get_data(), room, group)
        assert staff["'" + GROUP1_NAME] == ROOM1
    sign_in_as(client, partner)
    args = {"date_from": "2026-01-01", "date_to": "2026-03-31", "format": "csv"}
    page = client.get("/exports/attendance", query_string=args)
    assert ROOM1 not in page.get_data(as_text=True)
    fx.org1.share_location_detail = True
    db.session.commit()
    page = client.get("/exports/attendance", query_string=args)
    assert _rooms(page.get_data(), "Room or ward", "Group") == {"'" + GROUP1_NAME: ROOM1}
