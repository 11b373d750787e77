"""The staff export of answer sets by code through every channel (web, API, command line): the
same rows and the same rule (managers and admins), each export recorded in the audit trail;
and the partnership report's downloads carrying the outcomes section the page shows, small
numbers protected the same way.

Built on the outcomes report's made-up world (tests/test_outcomes_report.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
import sqlalchemy as sa
from flask import Flask

from readerapp.api.tokens import create_token
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db

from .factories import Factory
from .test_outcomes_report import (  # noqa: F401 (the fixture)
    CALM_ACK,
    FEWER,
    ONS4_ACK,
    PERIOD,
    TOO_FEW,
    Trust,
    csv_rows,
    hand_computation,
    signed_in,
    trust,
)

API = "/api/v1/exports/outcome-answers"
API_PERIOD = {"from": PERIOD["date_from"], "to": PERIOD["date_to"]}


def export_events() -> list[AuditEvent]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "export_answers")
            .order_by(AuditEvent.id)
        )
    )


def bearer(user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    secret = create_token(user).secret
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_exports_the_same_rows_as_the_web_for_staff_only_audited(
    app: Flask,
    trust: Trust,  # noqa: F811
) -> None:
    web = csv_rows(signed_in(app, trust.manager), "/reports/outcomes/answers.csv")
    client = app.test_client()
    for user in (trust.partner, trust.leader):
        refused = client.get(API, query_string=API_PERIOD, headers=bearer(user))
        assert refused.status_code == 403
        assert refused.content_type == "application/problem+json"
    response = client.get(API, query_string=API_PERIOD, headers=bearer(trust.manager))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text[1:]))) == web

    xlsx = client.get(
        API, query_string=API_PERIOD | {"format": "xlsx"}, headers=bearer(trust.manager)
    )
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.get_data()))["Answer sets"]
    assert sheet.max_row == len(web)

    events = export_events()
    assert [(e.changes["via"], e.changes["format"]) for e in events] == [
        ("web", "csv"),
        ("api", "csv"),
        ("api", "xlsx"),
    ]
    assert all(e.actor_id == trust.manager.id for e in events)
    assert events[1].changes["answer_sets"] == len(web) - 1
    assert "AWR-000" not in str([e.changes for e in events])


def test_bad_api_filters_are_problems_and_export_nothing(
    app: Flask,
    trust: Trust,  # noqa: F811
) -> None:
    client = app.test_client()
    headers = bearer(trust.manager)
    for args in (
        {"from": "yesterday", "to": "2026-02-01"},
        API_PERIOD | {"format": "json"},
        API_PERIOD | {"setting_type": "moon_base"},
        {"to": "2026-02-01"},
    ):
        response = client.get(API, query_string=args, headers=headers)
        assert response.status_code == 422, args
        assert response.content_type == "application/problem+json"
    assert export_events() == []
    # As for attendance, a period that ends before it starts holds nothing.
    backwards = client.get(
        API, query_string={"from": "2026-03-01", "to": "2026-02-01"}, headers=headers
    )
    assert backwards.status_code == 200
    assert backwards.get_data().decode("utf-8").count("\n") == 1  # the header alone


def test_the_command_line_exports_for_a_named_manager_audited_as_the_command(
    app: Flask,
    trust: Trust,  # noqa: F811
    tmp_path: Path,
) -> None:
    runner = app.test_cli_runner()
    out = tmp_path / "answers.csv"
    args = ["outcomes", "export-by-code", "--from", "2026-01-01", "--to", "2026-03-31"]
    refused = runner.invoke(args=[*args, "--user", trust.leader.email, "--output", str(out)])
    assert refused.exit_code != 0 and "only they may export answers by code" in refused.output
    unknown = runner.invoke(
        args=[*args, "--user", trust.manager.email, "--organisation", "Nowhere", "--output", "x"]
    )
    assert unknown.exit_code != 0 and "no organisation is called 'Nowhere'" in unknown.output
    backwards_args = [*args[:2], "--from", "2026-03-31", "--to", "2026-01-01"]
    backwards = runner.invoke(
        args=[*backwards_args, "--user", trust.manager.email, "--output", str(out)]
    )
    assert backwards.exit_code != 0 and "must be on or after --from" in backwards.output
    assert not out.exists() and export_events() == []

    done = runner.invoke(
        args=[*args, "--user", trust.manager.email, "--setting", "care_home", "--output", str(out)]
    )
    assert done.exit_code == 0, done.output
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(["LH-0", "LH-1", "LH-2"] * 2)
    (event,) = export_events()
    assert event.actor_id is None and event.actor_label == "cli:outcomes export-by-code"
    assert event.changes["via"] == "cli" and event.changes["answer_sets"] == 6
    assert event.changes["requested_by_id"] == trust.manager.id
    # The trail says it in words.
    admin = Factory().user("admin")
    db.session.commit()
    trail = signed_in(app, admin).get("/audit").get_data(as_text=True)
    assert "Exported answer sets by code" in trail
    assert "Outcome answer sets, a row per set by participant code" in trail


def test_the_partnership_downloads_carry_the_outcomes_section(
    app: Flask,
    trust: Trust,  # noqa: F811
) -> None:
    args = PERIOD | {"organisation": str(trust.organisation_id)}
    staff = signed_in(app, trust.manager)
    rows = csv_rows(staff, "/reports/partnership.csv", **args)
    start = rows.index(["Outcomes - paired change"]) + 1
    header = rows[start]
    table = [dict(zip(header, r, strict=True)) for r in rows[start + 1 :] if len(r) == len(header)]
    # The ward's forty people, in their setting's rows.
    ward = next(
        r
        for r in table
        if r["Measure"] == "Calm scale (7 items)" and r["People with two measurements"] == "40"
    )
    expected = hand_computation(range(40))
    assert float(ward["Mean change"]) == round(expected["change"], 2)
    assert ward["Acknowledgement"] == CALM_ACK
    assert any(ONS4_ACK in r["Acknowledgement"] for r in table)
    assert ["Outcomes - anonymous feedback"] in rows and ["Outcomes - how answered"] in rows
    # Left out when the section is not chosen.
    without = csv_rows(staff, "/reports/partnership.csv", **args, section="groups")
    assert ["Outcomes - paired change"] not in without

    # A partner's download protects small numbers as its page does.
    partner = signed_in(app, trust.partner)
    theirs = csv_rows(partner, "/reports/partnership.csv", **PERIOD)
    flat = [cell for row in theirs for cell in row]
    assert TOO_FEW in flat or FEWER in flat
    assert f'Outcomes: figures resting on fewer people show as "{TOO_FEW}".' in flat
    start = theirs.index(["Outcomes - paired change"]) + 1
    pairs = theirs[start].index("People with two measurements")
    shown = [r[pairs] for r in theirs[start + 1 :] if len(r) > pairs and r[0]]
    assert shown and not any(v in {"1", "2", "3", "4"} for v in shown)
    assert "Hillside" not in str(theirs)

    book = openpyxl.load_workbook(
        io.BytesIO(partner.get("/reports/partnership.xlsx", query_string=PERIOD).get_data())
    )
    assert "Outcomes - paired change" in book.sheetnames
    sheet = book["Outcomes - paired change"]
    header = [c.value for c in sheet[1]]
    column = header.index("People with two measurements")
    values = [r[column] for r in sheet.iter_rows(min_row=2, values_only=True) if r[0]]
    assert values and not any(v in (1, 2, 3, 4) for v in values)
    summary = [r[0] for r in book["Summary"].iter_rows(values_only=True)]
    assert f'Outcomes: figures resting on fewer people show as "{TOO_FEW}".' in summary
