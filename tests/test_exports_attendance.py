"""Attendance exports: hand-counted rows, every filter, every format, formula neutralisation,
the BOM, typed XLSX cells, valid JSON, the command line, and who may export what."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.exports import streaming
from readerapp.exports.queries import (
    PARTICIPANT_COLUMNS,
    SESSION_COLUMNS,
    ExportFilters,
    neutralise,
)
from readerapp.extensions import db

from . import exports_fixture
from .exports_fixture import (
    CANCEL_REASON,
    CODE3,
    GROUP1_NAME,
    ORG2_NAME,
    Q1,
    TITLE1,
    VENUE2_NAME,
    Fixture,
)
from .world import sign_in_as


@pytest.fixture
def fx() -> Fixture:
    return exports_fixture.build()


def export(filters: ExportFilters, fmt: str) -> bytes:
    out = io.BytesIO()
    streaming.write_export(filters, fmt, out)
    return out.getvalue()


def csv_rows(data: bytes) -> list[dict[str, str]]:
    assert data.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def q1(**kw: object) -> ExportFilters:
    """The first quarter, with the machine names these tests read (words: test_exports_columns)."""
    return ExportFilters(date_from=Q1[0], date_to=Q1[1], columns="machine", **kw)  # type: ignore[arg-type]


def ids(fx: Fixture, *names: str) -> list[str]:
    return [str(fx.sessions[n].id) for n in names]


def test_neutralise_every_trigger() -> None:
    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{trigger}x") == f"'{trigger}x"
    assert neutralise("plain") == "plain"
    assert neutralise(3) == 3


def test_session_rows_hand_counted(fx: Fixture) -> None:
    data = export(q1(), "csv")
    assert data.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM
    rows = csv_rows(data)
    # In local time, s10 (00:30 BST on 1 April) is outside the quarter; s9 (23:30 on 31 March)
    # is inside, although both fall on 31 March in UTC.
    assert [r["session_id"] for r in rows] == ids(
        fx, "s1", "s7", "s2", "s3", "s4", "s5", "s6", "s9"
    )
    s9 = rows[-1]
    assert (s9["date"], s9["start_time"]) == ("2026-03-31", "23:30")
    s1 = rows[0]
    assert s1["date"] == "2026-01-06" and s1["start_time"] == "10:30"
    assert (s1["participants"], s1["first_time"], s1["staff_carers"], s1["volunteers"]) == (
        "5",
        "2",
        "1",
        "0",
    )
    assert s1["status"] == s1["state"] == "delivered" and s1["leader"] == "Lee Leader"
    assert s1["setting_type"] == "mental_health_inpatient"
    assert sum(int(r["participants"] or 0) for r in rows) == 5 + 8 + 4 + 6 + 3 + 2
    cancelled = rows[3]
    assert cancelled["status"] == "cancelled" and cancelled["participants"] == ""
    # s6 on 3 March was never logged: still "scheduled" as stored, "not_yet_logged" as a state.
    unlogged = rows[6]
    assert (unlogged["status"], unlogged["state"]) == ("scheduled", "not_yet_logged")


def test_every_filter(fx: Fixture) -> None:
    def exported(**kw: object) -> list[str]:
        return [r["session_id"] for r in csv_rows(export(q1(**kw), "csv"))]

    group1 = ids(fx, "s1", "s2", "s3", "s4", "s5", "s6")
    assert exported(organisation_id=fx.org1.id) == group1
    assert exported(organisation_id=fx.org2.id) == ids(fx, "s7", "s9")
    assert exported(setting_type="prison") == ids(fx, "s7", "s9")
    assert exported(setting_type="library") == []
    assert exported(group_id=fx.group2.id) == ids(fx, "s7", "s9")
    assert exported(leader_id=fx.leader1.id) == group1
    assert exported(organisation_id=fx.org1.id, setting_type="prison") == []
    january = ExportFilters(date(2026, 1, 1), date(2026, 1, 31), columns="machine")
    assert [r["session_id"] for r in csv_rows(export(january, "csv"))] == ids(
        fx, "s1", "s7", "s2", "s3"
    )
    one_day = ExportFilters(date(2026, 4, 1), date(2026, 4, 1), columns="machine")
    assert [r["session_id"] for r in csv_rows(export(one_day, "csv"))] == ids(fx, "s10")


def test_per_participant_rows_carry_codes_never_names(fx: Fixture) -> None:
    data = export(q1(per_participant=True), "csv")
    rows = csv_rows(data)
    assert list(rows[0]) == list(PARTICIPANT_COLUMNS)
    assert len(rows) == 2 + 2 + 3 + 1 + 1  # registers at s1, s2, s4, s5, s7
    assert [r["participant_code"] for r in rows[:2]] == ["P1", "P2"]
    assert sum(int(r["first_time"]) for r in rows) == 4  # P1, P2, P3 and Q1 first came
    assert b"Secret Person" not in data
    narrowed = csv_rows(export(q1(per_participant=True, organisation_id=fx.org2.id), "csv"))
    assert [r["participant_code"] for r in narrowed] == ["Q1"]


@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_formula_neutralisation_in_every_format(fx: Fixture, fmt: str) -> None:
    expected = {
        "group": "'" + GROUP1_NAME,
        "venue": "'" + VENUE2_NAME,
        "organisation": "'" + ORG2_NAME,
        "cancellation_reason": "'" + CANCEL_REASON,
        "materials": "'" + TITLE1 + " — A. Poet",
    }
    sessions = _rows(export(q1(), fmt), fmt)
    seen = {key: {str(r[key]) for r in sessions if r.get(key)} for key in expected}
    for key, value in expected.items():
        assert value in seen[key], (key, seen[key])
        assert not any(v.startswith(("=", "+", "-", "@", "\t", "\r")) for v in seen[key])
    codes = {str(r["participant_code"]) for r in _rows(export(q1(per_participant=True), fmt), fmt)}
    assert "'" + CODE3 in codes and CODE3 not in codes


def _rows(data: bytes, fmt: str) -> list[dict[str, object]]:
    if fmt == "csv":
        return csv_rows(data)  # type: ignore[return-value]
    if fmt == "json":
        return json.loads(data)
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    values = list(sheet.iter_rows(values_only=True))
    return [dict(zip(values[0], row, strict=True)) for row in values[1:]]


def test_csv_quotes_survive_a_round_trip(fx: Fixture) -> None:
    rows = csv_rows(export(q1(group_id=fx.group1.id), "csv"))
    assert rows[0]["group"] == "'" + GROUP1_NAME  # '=cmd|"calc"' with its quotes intact


def test_xlsx_has_typed_cells_and_a_frozen_header(fx: Fixture) -> None:
    book = openpyxl.load_workbook(io.BytesIO(export(q1(), "xlsx")))
    sheet = book.active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    assert header == list(SESSION_COLUMNS)
    first = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    assert isinstance(first["date"].value, datetime)
    assert first["date"].value.date() == date(2026, 1, 6)
    assert first["date"].is_date
    for name in ("session_id", "participants", "first_time", "staff_carers", "volunteers"):
        assert isinstance(first[name].value, int), name
        assert first[name].data_type == "n"
    assert first["participants"].value == 5
    # No cell became a formula.
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_json_is_a_valid_array_with_numbers(fx: Fixture) -> None:
    data = json.loads(export(q1(), "json"))
    assert len(data) == 8
    assert data[0]["participants"] == 5 and data[0]["date"] == "2026-01-06"
    assert json.loads(export(ExportFilters(date(2030, 1, 1), date(2030, 1, 2)), "json")) == []


def test_empty_csv_is_just_the_header() -> None:
    data = export(ExportFilters(date(2030, 1, 1), date(2030, 1, 2), columns="machine"), "csv")
    assert data == ("\ufeff" + ",".join(SESSION_COLUMNS) + "\n").encode()


def test_command_line_export(app: Flask, fx: Fixture, tmp_path) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "q1.csv"
    result = runner.invoke(
        args=[
            "export",
            "attendance",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--organisation",
            ORG2_NAME,
            "--format",
            "csv",
            "--columns",
            "machine",
            "--output",
            str(out),
        ]
    )
    assert result.exit_code == 0, result.output
    assert [r["session_id"] for r in csv_rows(out.read_bytes())] == ids(fx, "s7", "s9")
    for args, kind in [
        (["--group", "B Wing Readers", "--format", "json"], "json"),
        (["--leader", "LEE@example.org", "--format", "xlsx", "--per-participant"], "xlsx"),
        (["--setting", "prison", "--format", "csv"], "csv"),
    ]:
        target = tmp_path / f"out.{kind}"
        result = runner.invoke(
            args=[
                "export",
                "attendance",
                "--from",
                "2026-01-01",
                "--to",
                "2026-03-31",
                *args,
                "--columns",
                "machine",
                "--output",
                str(target),
            ]
        )
        assert result.exit_code == 0, result.output
        rows = _rows(target.read_bytes(), kind)
        assert rows, args
    assert len(_rows((tmp_path / "out.xlsx").read_bytes(), "xlsx")) == 8  # Lee's registers


@pytest.mark.parametrize(
    "args, message",
    [
        (["--from", "2026-02-30", "--to", "2026-03-31"], "not a date"),
        (["--from", "2026-03-01", "--to", "2026-01-31"], "after the end date"),
        (["--from", "2026-01-01", "--to", "2026-03-31", "--organisation", "Nobody"], "Nobody"),
        (["--from", "2026-01-01", "--to", "2026-03-31", "--group", "Nobody"], "Nobody"),
        (["--from", "2026-01-01", "--to", "2026-03-31", "--leader", "no@x.org"], "no@x.org"),
    ],
)
def test_command_line_refuses_bad_input(
    app: Flask, tmp_path, args: list[str], message: str
) -> None:
    out = tmp_path / "x.csv"
    result = app.test_cli_runner().invoke(
        args=["export", "attendance", *args, "--output", str(out)]
    )
    assert result.exit_code == 2
    assert message in result.output
    assert not out.exists()


# --- the web --------------------------------------------------------------------------------


def signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    # End the test's own transaction: on SQLite it would hold the write lock the request's
    # audit entry needs.
    db.session.rollback()
    return client


def web_export(client: FlaskClient, **args: str):
    query = {
        "date_from": "2026-01-01",
        "date_to": "2026-03-31",
        "format": "csv",
        "columns": "machine",
    } | args
    return client.get("/exports/attendance", query_string=query)


def test_manager_downloads_every_format(app: Flask, fx: Fixture, factory) -> None:
    manager = factory.user("manager")
    db.session.commit()
    client = signed_in(app, manager)
    response = web_export(client)
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert len(csv_rows(response.get_data())) == 8
    response = web_export(client, format="xlsx", per_participant="y")
    assert response.status_code == 200
    assert len(_rows(response.get_data(), "xlsx")) == 9
    response = web_export(client, format="json", organisation=str(fx.org1.id))
    assert [r["session_id"] for r in json.loads(response.get_data())] == [
        int(i) for i in ids(fx, "s1", "s2", "s3", "s4", "s5", "s6")
    ]


def test_partner_exports_only_their_own_sessions(app: Flask, fx: Fixture, factory) -> None:
    partner = factory.user("partner_viewer", organisation_id=fx.org2.id)
    db.session.commit()
    client = signed_in(app, partner)
    rows = csv_rows(web_export(client).get_data())
    assert [r["session_id"] for r in rows] == ids(fx, "s7", "s9")
    assert web_export(client, organisation=str(fx.org1.id)).status_code == 403
    assert web_export(client, per_participant="y").status_code == 403
    page = client.get("/exports/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "per_participant" not in html
    assert "Northmoor Trust" not in html
    assert "Kim Leader" in html and "Lee Leader" not in html  # their groups' leaders only
    assert "kim@example.org" not in html
    assert web_export(client, leader=str(fx.leader1.id)).status_code == 400


def test_leaders_cannot_export(app: Flask, fx: Fixture) -> None:
    assert web_export(signed_in(app, fx.leader1)).status_code == 403


@pytest.mark.parametrize(
    "args, message",
    [
        ({"date_from": "2026-02-30"}, b"Not a valid date"),
        ({"date_from": "not-a-date"}, b"Not a valid date"),
        ({"date_from": "2026-04-01", "date_to": "2026-03-01"}, b"on or after the From date"),
        ({"organisation": "999999"}, b"Not a valid choice"),
        ({"organisation": "abc"}, b"Not a valid choice"),
        ({"setting": "spaceship"}, b"Not a valid choice"),
        ({"group": "999999"}, b"Not a valid choice"),
        ({"format": "pdf"}, b"Not a valid choice"),
        ({"columns": "robots"}, b"Not a valid choice"),
        ({"date_from": "1900-01-01", "date_to": "2026-01-01"}, b"at most 12 years"),
    ],
)
def test_bad_web_input_is_an_inline_400(
    app: Flask, fx: Fixture, factory, args: dict[str, str], message: bytes
) -> None:
    admin = factory.user("admin")
    db.session.commit()
    response = web_export(signed_in(app, admin), **args)
    assert response.status_code == 400
    body = response.get_data()
    assert b"There is a problem" in body and message in body


def test_per_participant_exports_are_audited(app: Flask, fx: Fixture, factory, tmp_path) -> None:
    from readerapp.audit.models import AuditEvent

    manager = factory.user("manager")
    db.session.commit()
    web_export(signed_in(app, manager), per_participant="y").get_data()
    web_export(signed_in(app, manager)).get_data()  # one row per session: nothing to record
    result = app.test_cli_runner().invoke(
        args=[
            "export",
            "attendance",
            "--from",
            "2026-01-01",
            "--to",
            "2026-03-31",
            "--per-participant",
            "--output",
            str(tmp_path / "p.csv"),
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.rollback()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export").order_by(AuditEvent.id)
    ).all()
    assert [e.entity_type for e in events] == ["export", "export"]
    assert events[0].actor_id == manager.id
    assert "P1" not in str([e.changes for e in events])


def test_materials_are_listed_by_title(fx: Fixture, factory) -> None:
    s1 = fx.sessions["s1"]
    s1.materials = [*s1.materials, factory.material(title="!Bang", author="B. Writer")]
    db.session.commit()
    rows = csv_rows(export(q1(group_id=fx.group1.id), "csv"))
    assert rows[0]["materials"] == "!Bang — B. Writer; '" + TITLE1 + " — A. Poet"


def test_bench_generate_refuses_a_database_with_sessions(app: Flask, fx: Fixture) -> None:
    result = app.test_cli_runner().invoke(args=["bench", "generate", "--scale", "1"])
    assert result.exit_code == 1
    assert "already has sessions" in result.output
