"""The outcomes report: paired change per measure and setting, matching a hand computation for
a made-up 7-item scale converted with its table; ONS4 item by item with its acknowledgement;
withdrawal reflected at once; partners held to their own organisation with small numbers
protected on the page and in the downloads; the export by code for staff only, audited.

The licensed-style measure is made up ("Calm scale"): no licensed wording is used."""

from __future__ import annotations

import csv
import io
import math
import statistics
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.outcomes.answers import AnswerSetData, record_consent, save_answer_set
from readerapp.outcomes.models import MeasureVersion
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file

from .factories import Factory, aware
from .test_outcomes_measures import CALM_TABLE, calm_file
from .world import sign_in_as

FIRST = date(2026, 1, 12)
LATER = date(2026, 3, 9)
PERIOD = {"date_from": "2026-01-01", "date_to": "2026-03-31"}
FEWER = "fewer than 5"
TOO_FEW = "too few people to show"
ONS4_ACK = "Office for National Statistics, used under the Open Government Licence v3.0"
CALM_ACK = "Calm scale © Example University, used under licence"
# The 0.975 quantile of Student's t with 39 degrees of freedom (40 pairs), from tables.
T_39 = 2.022691


def calm_first(i: int) -> list[int]:
    return [1 + (i + n) % 3 for n in range(7)]


def calm_later(i: int) -> list[int]:
    """Some rise by 4 raw points, some by 1, some stay, some fall on every item they can."""
    first = calm_first(i)
    if i % 4 == 0:
        return [v + 1 if n < 4 else v for n, v in enumerate(first)]
    if i % 4 == 1:
        return [first[0] + 1, *first[1:]]
    if i % 4 == 2:
        return first
    return [max(1, v - 1) for v in first]


def calm_answers(values: list[int]) -> dict[str, int]:
    return {f"item{n}": v for n, v in enumerate(values, start=1)}


@dataclass
class Trust:
    partner: object
    other_partner: object
    manager: object
    leader: object
    people: list
    organisation_id: int
    other_organisation_id: int


def answer(version, group, person, day, answers, mode="self_paper", session=None) -> None:
    save_answer_set(
        AnswerSetData(version.id, group, person, session, day, mode, answers), entered_by_id=None
    )


@pytest.fixture
def trust(factory: Factory, tmp_path: Path) -> Trust:
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))
    versions = {v.measure.key: v for v in db.session.scalars(sa.select(MeasureVersion))}
    calm, ons4 = versions["calm7"], versions["ons4"]

    trust = factory.organisation(name="Northmoor Hospitals Trust")
    ward = factory.group(factory.venue(trust), name="Willow Ward Readers")
    factory.partnership(trust, ward)
    # A small group in another setting: three people.
    home = factory.group(factory.venue(trust, setting_type="care_home"), name="Larch House")
    factory.partnership(trust, home)
    people = []
    for i in range(40):
        person = factory.participant(trust, code=f"AWR-{i:03d}")
        record_consent(person, "evaluation", True, date(2026, 1, 5), None)
        mode = "read_aloud" if i < 10 else "self_paper"
        answer(calm, ward, person, FIRST, calm_answers(calm_first(i)), mode)
        answer(calm, ward, person, LATER, calm_answers(calm_later(i)), mode)
        people.append(person)
    for i in range(3):
        person = factory.participant(trust, code=f"LH-{i}")
        record_consent(person, "evaluation", True, date(2026, 1, 5), None)
        answer(calm, home, person, FIRST, calm_answers([2] * 7))
        answer(calm, home, person, LATER, calm_answers([3] * 7))
    # ONS4 at the ward for six people, and anonymous feedback at one session.
    for n, person in enumerate(people[:6]):
        before = {"life_satisfaction": 5, "worthwhile": 6, "happiness": 4, "anxiety": 7}
        after = {"life_satisfaction": 6 + n % 2, "worthwhile": 6, "happiness": 6, "anxiety": 5}
        answer(ons4, ward, person, FIRST, before)
        answer(ons4, ward, person, LATER, after)
    session = factory.session(ward, start_dt=aware(2026, 2, 3, 10, 30), status="delivered")
    for n in range(6):
        anonymous = {"life_satisfaction": 6 + n % 3, "worthwhile": 7, "happiness": 8, "anxiety": 2}
        answer(ons4, ward, None, date(2026, 2, 3), anonymous, session=session)

    # Another partner's group, with five people of its own.
    other = factory.organisation(name="Hillside Prison")
    cell_block = factory.group(factory.venue(other, setting_type="prison"), name="Hillside")
    factory.partnership(other, cell_block)
    for i in range(5):
        person = factory.participant(other, code=f"HP-{i}")
        record_consent(person, "evaluation", True, date(2026, 1, 5), None)
        answer(calm, cell_block, person, FIRST, calm_answers([1] * 7))
        answer(calm, cell_block, person, LATER, calm_answers([5] * 7))

    result = Trust(
        partner=factory.user("partner_viewer", organisation_id=trust.id),
        other_partner=factory.user("partner_viewer", organisation_id=other.id),
        manager=factory.user("manager"),
        leader=factory.user("reader_leader"),
        people=people,
        organisation_id=trust.id,
        other_organisation_id=other.id,
    )
    db.session.commit()
    return result


def signed_in(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    db.session.rollback()
    return client


def page(client: FlaskClient, **args: str) -> str:
    response = client.get("/reports/outcomes", query_string=PERIOD | args)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return response.get_data(as_text=True)


def section(body: str, heading: str) -> str:
    """The page's section under ``heading``."""
    start = body.index(f">{heading}</h2>")
    return body[start : body.index("</section>", start)]


def csv_rows(client: FlaskClient, url: str, **args: str) -> list[list[str]]:
    response = client.get(url, query_string=PERIOD | args)
    assert response.status_code == 200
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def change_rows(rows: list[list[str]]) -> list[dict[str, str]]:
    """The "Paired change" table of the report's CSV, as dicts."""
    start = next(n for n, row in enumerate(rows) if row[:1] == ["Paired change"]) + 1
    header = rows[start]
    table = []
    for row in rows[start + 1 :]:
        if not row:
            break
        table.append(dict(zip(header, row, strict=True)))
    return table


def hand_computation(codes: range) -> dict[str, float | int]:
    before = [CALM_TABLE[sum(calm_first(i))] for i in codes]
    after = [CALM_TABLE[sum(calm_later(i))] for i in codes]
    changes = [a - b for a, b in zip(after, before, strict=True)]
    n = len(changes)
    mean = sum(changes) / n
    sd = math.sqrt(sum((c - mean) ** 2 for c in changes) / (n - 1))
    margin = T_39 * sd / math.sqrt(n)
    return {
        "n": n,
        "before": sum(before) / n,
        "after": sum(after) / n,
        "change": mean,
        "low": mean - margin,
        "high": mean + margin,
        "improved": sum(c >= 3 - 1e-9 for c in changes),
        "declined": sum(c <= -3 + 1e-9 for c in changes),
    }


def test_the_page_shows_the_converted_paired_change_matching_a_hand_computation(
    app: Flask, trust: Trust
) -> None:
    expected = hand_computation(range(40))
    assert expected["improved"] == 10 and expected["declined"] == 10  # the data mean it
    client = signed_in(app, trust.manager)
    body = page(client, organisation=str(trust.organisation_id), setting="mental_health_inpatient")
    assert "Calm scale (7 items)" in body and CALM_ACK in body
    assert "Converted score" in body
    e = expected
    assert f"{e['before']:.2f}" in body and f"{e['after']:.2f}" in body
    assert f"{e['change']:.2f} ({e['low']:.2f} to {e['high']:.2f})" in body
    no_change = 40 - e["improved"] - e["declined"]
    assert f"{e['improved'] / 40 * 100:.0f}% ({e['improved']})" in body
    assert f"{no_change / 40 * 100:.0f}% ({no_change})" in body
    # 40 pairs is past the measure's 30: no caution; how it was answered is counted.
    calm_section = section(body, "Calm scale (7 items)")
    assert "treat with caution" not in calm_section and CALM_ACK in calm_section
    assert "Read aloud by the leader" in calm_section and "<svg" in body
    assert 'role="img"' in body and "mean before and after" in body
    desc = calm_section[calm_section.index("<desc") : calm_section.index("</desc>")]
    assert f"before {e['before']:.2f}, after {e['after']:.2f}, 40 people" in desc

    (row,) = [
        r
        for r in change_rows(
            csv_rows(client, "/reports/outcomes.csv", setting="mental_health_inpatient")
        )
        if r["Measure"] == "Calm scale (7 items)" and r["Setting"] == "All settings"
    ]
    assert int(row["People with two measurements"]) == 40
    for column, key in [
        ("Mean before", "before"),
        ("Mean after", "after"),
        ("Mean change", "change"),
        ("95% interval: low", "low"),
        ("95% interval: high", "high"),
    ]:
        assert float(row[column]) == pytest.approx(e[key], abs=0.006), column
    assert int(row["Improved"]) == 10 and int(row["Declined"]) == 10
    assert row["Acknowledgement"] == CALM_ACK


def test_ons4_is_reported_item_by_item_never_summed_with_its_acknowledgement(
    app: Flask, trust: Trust
) -> None:
    client = signed_in(app, trust.manager)
    body = page(client)
    ons4_part = section(body, "ONS personal wellbeing (ONS4)")
    for label in ("Life satisfaction", "Worthwhile", "Happiness yesterday", "Anxiety yesterday"):
        assert label in ons4_part
    assert ONS4_ACK in ons4_part
    assert "Total score" not in ons4_part and "Converted score" not in ons4_part
    # Six pairs, under the 30 the ONS4 file asks for.
    assert "Fewer than 30 people with two measurements: treat with caution." in ons4_part
    # Anxiety fell from 7 to 5: lower is better, so everyone improved.
    rows = change_rows(csv_rows(client, "/reports/outcomes.csv"))
    ons4 = [r for r in rows if r["Measure"].startswith("ONS") and r["Setting"] == "All settings"]
    assert [r["Figure"] for r in ons4] == [
        "Life satisfaction",
        "Worthwhile",
        "Happiness yesterday",
        "Anxiety yesterday",
    ]
    anxiety = ons4[-1]
    assert float(anxiety["Mean change"]) == -2 and anxiety["Share improved"] == "1.0"
    # Anonymous feedback: counted and averaged, with the acknowledgement.
    feedback = body[body.index("Anonymous session feedback") :]
    assert "6 answer sets" in feedback and ONS4_ACK in feedback
    assert f"{statistics.fmean(6 + n % 3 for n in range(6)):.2f}" in feedback


def test_withdrawing_consent_is_reflected_in_the_next_report(app: Flask, trust: Trust) -> None:
    client = signed_in(app, trust.manager)
    args = {"setting": "mental_health_inpatient"}

    def calm_pairs() -> int:
        rows = change_rows(csv_rows(client, "/reports/outcomes.csv", **args))
        (row,) = [
            r for r in rows if r["Measure"].startswith("Calm") and r["Setting"] == "All settings"
        ]
        return int(row["People with two measurements"])

    assert calm_pairs() == 40
    record_consent(trust.people[0], "evaluation", False, date(2026, 4, 1), None)
    db.session.commit()
    assert calm_pairs() == 39
    app.config["OUTCOMES_ON_WITHDRAWAL"] = "keep"
    try:
        assert calm_pairs() == 40
    finally:
        app.config["OUTCOMES_ON_WITHDRAWAL"] = "remove"


def test_a_partner_sees_only_its_own_organisation_with_small_numbers_protected(
    app: Flask, trust: Trust
) -> None:
    partner = signed_in(app, trust.partner)
    assert (
        partner.get(
            "/reports/outcomes", query_string=PERIOD | {"organisation": trust.other_organisation_id}
        ).status_code
        == 403
    )
    small = page(partner, setting="care_home")
    assert "Northmoor Hospitals Trust" in small and "Hillside" not in small
    table = small[small.index('id="change-calm7"') :]
    table = table[: table.index("</table>")]
    assert FEWER in table and TOO_FEW in table
    assert "2.00" not in table and "3.00" not in table  # the three people's means
    assert "fewer than 5" in small  # the note says how figures are protected
    chart = small[small.index("<desc") : small.index("</desc>")]
    assert f"before {TOO_FEW}" in chart and f"{FEWER} people" in chart

    # Every setting: a chart per setting, the care home's telling nothing of its three people.
    whole = page(partner)
    care_chart = whole[whole.index('id="chart-calm7-1"') :]
    care_chart = care_chart[: care_chart.index("</desc>")]
    assert "(Care home)" in care_chart and f"before {TOO_FEW}" in care_chart
    # In the downloads 43 people show rounded; the care home's three stay hidden in its row.
    rows = change_rows(csv_rows(partner, "/reports/outcomes.csv"))
    calm = [r for r in rows if r["Measure"].startswith("Calm")]
    assert {r["Setting"]: r["People with two measurements"] for r in calm} == {
        "All settings": "45",
        "Care home": FEWER,
        "Mental health inpatient": "40",
    }
    care = next(r for r in calm if r["Setting"] == "Care home")
    assert care["Mean before"] == care["Mean change"] == care["Share improved"] == TOO_FEW
    # ONS4 pairs (six) round to five; anonymous feedback counts round too.
    for row in rows:
        value = row["People with two measurements"]
        assert value not in {"1", "2", "3", "4"}
    book = openpyxl.load_workbook(
        io.BytesIO(partner.get("/reports/outcomes.xlsx", query_string=PERIOD).get_data())
    )
    sheet = book["Paired change"]
    header = [c.value for c in sheet[1]]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    pairs = header.index("People with two measurements")
    shown = [row[pairs] for row in sheet.iter_rows(min_row=2, values_only=True) if row[0]]
    assert FEWER in shown and not any(v in (1, 2, 3, 4) for v in shown)

    # The other partner sees its five people, and nothing of the trust's.
    other = page(signed_in(app, trust.other_partner))
    assert "Hillside Prison" in other and "Northmoor" not in other
    # Staff see the real figures.
    staff = page(signed_in(app, trust.manager), setting="care_home")
    staff_table = staff[staff.index('id="change-calm7"') :]
    assert TOO_FEW not in staff_table[: staff_table.index("</table>")]
    assert "<td" in staff_table and ">3<" in staff_table.replace(" ", "")


def test_the_export_by_code_is_for_staff_only_and_audited(app: Flask, trust: Trust) -> None:
    for user in (trust.partner, trust.leader):
        client = signed_in(app, user)
        assert client.get("/reports/outcomes/answers.csv", query_string=PERIOD).status_code == 403
    assert "Answer sets by code" not in page(signed_in(app, trust.partner))

    manager = signed_in(app, trust.manager)
    assert "Answer sets by code" in page(manager)
    rows = csv_rows(manager, "/reports/outcomes/answers.csv", setting="care_home")
    header, *body = rows
    assert header[:9] == [
        "Participant code",
        "Group",
        "Setting",
        "Measure",
        "Version",
        "Acknowledgement",
        "Date answered",
        "How the questions were answered",
        "Complete",
    ]
    assert "Calm scale (7 items): Item 1" in header and header[-2] == "Total"
    assert sorted(r[0] for r in body) == sorted(["LH-0", "LH-1", "LH-2"] * 2)
    first = next(r for r in body if r[0] == "LH-0" and r[6] == FIRST.isoformat())
    assert first[1:6] == ["Larch House", "Care home", "Calm scale (7 items)", "1", CALM_ACK]
    assert first[8] == "Yes" and first[-2] == "14" and float(first[-1]) == CALM_TABLE[14]

    response = manager.get("/reports/outcomes/answers.xlsx", query_string=PERIOD)
    sheet = openpyxl.load_workbook(io.BytesIO(response.get_data()))["Answer sets"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    assert sheet.max_row == 1 + 2 * 40 + 2 * 3 + 2 * 6 + 2 * 5  # coded sets only

    db.session.rollback()
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export_answers").order_by(AuditEvent.id)
    ).all()
    assert [e.changes["format"] for e in events] == ["csv", "xlsx"]
    assert all(e.actor_id == trust.manager.id and e.entity_type == "export" for e in events)
    assert events[0].changes["answer_sets"] == 6
    assert "LH-0" not in str([e.changes for e in events])
    # Opening the report itself (aggregates only) records nothing.
    page(manager)
    db.session.rollback()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEvent.id)).where(AuditEvent.action == "export_answers")
        )
        == 2
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"date_from": "yesterday"}, "Not a valid date value"),
        ({"date_from": "2026-03-01", "date_to": "2026-02-01"}, "must be on or after the From date"),
        ({"setting": "moon_base"}, "Not a valid choice"),
        ({"date_from": "1900-01-01", "date_to": "2026-01-01"}, "at most 12 years"),
    ],
)
@pytest.mark.parametrize(
    "url",
    ["/reports/outcomes", "/reports/outcomes.csv", "/reports/outcomes/answers.xlsx"],
)
def test_bad_filters_are_an_inline_400(
    app: Flask, factory: Factory, url: str, args: dict[str, str], message: str
) -> None:
    manager = factory.user("manager")
    db.session.commit()
    response = signed_in(app, manager).get(url, query_string=PERIOD | args)
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "There is a problem" in body and message in body


def test_the_partnership_report_has_an_outcomes_section(app: Flask, trust: Trust) -> None:
    args = PERIOD | {"organisation": str(trust.organisation_id)}
    staff = signed_in(app, trust.manager)
    body = staff.get("/reports/partnership", query_string=args).get_data(as_text=True)
    outcomes = body[body.index('id="outcomes-heading"') :]
    outcomes = outcomes[
        : outcomes.index('id="outliers-heading"') if "outliers-heading" in outcomes else None
    ]
    # The same figures as the outcomes report, headed one level down, each with its line.
    assert '<h3 id="measure-calm7">Calm scale (7 items)</h3>' in outcomes
    assert CALM_ACK in outcomes and ONS4_ACK in outcomes
    expected = hand_computation(range(40))
    assert f"{expected['before']:.2f}" in outcomes  # the ward's 40, in its setting's table
    assert 'id="chart-calm7"' in outcomes and "Anonymous session feedback" in outcomes
    # A section like the others: left out when not chosen.
    without = staff.get("/reports/partnership", query_string=args | {"section": "groups"}).get_data(
        as_text=True
    )
    assert 'id="outcomes-heading"' not in without
    # Partners read it with small numbers protected.
    partner = signed_in(app, trust.partner)
    theirs = partner.get("/reports/partnership", query_string=PERIOD).get_data(as_text=True)
    assert 'id="outcomes-heading"' in theirs and TOO_FEW in theirs
    assert "Hillside" not in theirs
