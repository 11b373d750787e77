"""Paper questionnaires imported from a CSV file: every row checked by the answer sets' own
rules, every problem listed with its row and column, nothing written unless every row is good,
no answers without consent, and a file uploaded twice never doubles anyone's answers."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.attendance.models import Participant
from readerapp.extensions import db
from readerapp.outcomes.answers import record_consent
from readerapp.outcomes.imports import MAX_BYTES, MAX_ROWS, parse_mode
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.timeutil import to_local

from .audit_support import deferred_reads, events  # noqa: F401
from .factories import Factory
from .test_outcomes_measures import calm_file
from .test_outcomes_web import answer_sets, as_user, today, version_of
from .world import World, build_world

pytestmark = pytest.mark.usefixtures("deferred_reads")

ITEMS = [f"item{n}" for n in range(1, 8)]
HEADER = ["code", "date", "mode", "session_date", *ITEMS]


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def world(factory: Factory, tmp_path: Path, no_csrf: None) -> World:
    built = build_world(factory)
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))  # calm7: item1…item7, answers 1–5
    db.session.commit()
    return built


def people(world: World, factory: Factory, n: int, consent: bool = True) -> list[str]:
    """``n`` participants of the group's host organisation, with consent to evaluation."""
    codes = []
    for i in range(n):
        p = factory.participant(world.host, code=f"AWR-{i + 1:03d}")
        if consent:
            record_consent(p, "evaluation", True, today() - timedelta(days=60), world.admin.id)
        codes.append(p.code)
    db.session.commit()
    return codes


def csv_bytes(rows: list[list[object]], header: list[str] = HEADER, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def upload(client: FlaskClient, world: World, data: bytes, measure: str = "calm7"):
    return client.post(
        f"/groups/{world.group.id}/answers/import",
        data={"measure": measure, "file": (io.BytesIO(data), "answers.csv")},
        content_type="multipart/form-data",
    )


def session_day(world: World) -> date:
    return to_local(world.past_session.start_dt, world.past_session.tz_name).date()


def good_rows(world: World, codes: list[str]) -> list[list[object]]:
    """One row per code: a spread of modes, dates, and a partial set now and then."""
    modes = ["self_paper", "On paper by the person", "read aloud", "Self_Phone"]
    rows: list[list[object]] = []
    for i, code in enumerate(codes):
        day = today() - timedelta(days=1 + i % 10)
        answers: list[object] = [1 + (i + n) % 5 for n in range(7)]
        if i % 8 == 0:
            answers[6] = ""  # unanswered: a partial set
        tied = session_day(world).isoformat() if i == 0 else ""
        rows.append([code, day.isoformat(), modes[i % 4], tied, *answers])
    return rows


def test_a_good_file_of_40_rows_saves_40_sets(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    codes = people(world, factory, 40)
    rows = good_rows(world, codes)
    response = upload(as_user(client, world.leader), world, csv_bytes(rows, bom=True))
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Imported 40 answer sets." in client.get(response.location).get_data(as_text=True)

    saved = answer_sets()
    assert len(saved) == 40
    by_code = {db.session.get(Participant, s.participant_id).code: s for s in saved}
    first = by_code["AWR-001"]
    assert first.session_id == world.past_session.id
    assert first.answered_on == today() - timedelta(days=1)
    assert (first.mode, first.complete) == ("self_paper", False)
    assert first.answers == {f"item{n + 1}": 1 + n % 5 for n in range(6)}
    second = by_code["AWR-002"]
    assert (second.mode, second.complete, second.session_id) == ("self_paper", True, None)
    assert by_code["AWR-003"].mode == "read_aloud"
    assert by_code["AWR-004"].mode == "self_phone"
    assert by_code["AWR-010"].answered_on == today() - timedelta(days=10)
    assert {s.measure_version_id for s in saved} == {version_of("calm7").id}
    assert {s.group_id for s in saved} == {world.group.id}
    assert {s.entered_by_id for s in saved} == {world.leader.id}
    # One record of the import, beside one per answer set saved.
    (imported,) = events(action="import_answers")
    assert imported.entity_type == "answer_set"
    assert len(events(action="create", entity_type="answer_set")) == 40


def test_every_problem_is_listed_and_nothing_is_written(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    codes = people(world, factory, 6)
    rows = good_rows(world, codes)
    rows[1][4 + 2] = 9  # row 3, item3
    rows[2][1] = (today() + timedelta(days=3)).isoformat()  # row 4: a future date
    rows[3][2] = "by carrier pigeon"  # row 5
    rows[4][0] = "AWR-999"  # row 6: unknown
    rows[5][4:] = [""] * 7  # row 7: no answers
    rows.append(["AWR-001", "31/02/2026", "paper", "", 1, 2, 3, 4, 5, 1, 2])  # row 8
    rows.append(["AWR-002", "1999-12-31", "paper", "", 1, 2, 3, 4, 5, 1, "x"])  # row 9
    response = upload(as_user(client, world.leader), world, csv_bytes(rows))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Nothing was imported" in page
    for expected in (
        "Row 3, item3: choose an answer from 1 to 5.",
        "Row 4, date: give a date that is not in the future.",
        "Row 5, mode: say how:",
        "Row 6, code: AWR-999 is not known at this group.",
        "Row 7: give at least one answer.",
        "Row 8, date: “31/02/2026” is not a date like 2026-03-31.",
        "Row 9, item7: choose one of the answers offered.",
        "Row 9, date: give a date in 2000–2100.",
    ):
        assert expected in page, expected
    assert "Row 2" not in page  # the good row is not blamed
    assert answer_sets() == []
    assert events(action="import_answers") == []


def test_no_answers_without_consent_naming_the_row(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    codes = people(world, factory, 3)
    without = factory.participant(world.host, code="AWR-009")  # never consented
    # The third withdrew: consent is read as it stands at the import.
    record_consent(
        db.session.scalar(sa.select(Participant).filter_by(code=codes[2])),
        "evaluation",
        False,
        today(),
        world.admin.id,
    )
    db.session.commit()
    rows = good_rows(world, [*codes, without.code])
    response = upload(as_user(client, world.leader), world, csv_bytes(rows))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Row 5: AWR-009 has not consented to taking part in evaluation." in page
    assert "Row 4: AWR-003 has not consented to taking part in evaluation." in page
    assert answer_sets() == []


def test_the_same_file_twice_saves_nothing_new(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    codes = people(world, factory, 5)
    data = csv_bytes(good_rows(world, codes))
    as_user(client, world.leader)
    assert upload(client, world, data).status_code == 302
    assert len(answer_sets()) == 5
    again = upload(client, world, data)
    assert again.status_code == 400
    page = again.get_data(as_text=True)
    assert all(f"Row {n}: already imported." in page for n in range(2, 7))
    assert len(answer_sets()) == 5
    # The same row twice in one file is refused too.
    twice = good_rows(world, ["AWR-001"]) * 2
    twice[0][1] = twice[1][1] = (today() - timedelta(days=20)).isoformat()
    page = upload(client, world, csv_bytes(twice)).get_data(as_text=True)
    assert "Row 3: the same answers as row 2." in page
    assert len(answer_sets()) == 5


def test_an_older_version_by_its_column(
    client: FlaskClient, world: World, factory: Factory, tmp_path: Path
) -> None:
    codes = people(world, factory, 2)
    load_measure_file(calm_file(tmp_path, version="2", first_item="I have felt rested"))
    db.session.commit()
    rows = [[*row, "1"] for row in good_rows(world, codes)]
    rows[1][-1] = "7"
    response = upload(as_user(client, world.leader), world, csv_bytes(rows, [*HEADER, "version"]))
    assert "Row 3, version: Calm scale (7 items) has no version “7”." in response.get_data(
        as_text=True
    )
    rows[1][-1] = ""  # blank: the latest
    response = upload(client, world, csv_bytes(rows, [*HEADER, "version"]))
    assert response.status_code == 302
    versions = {s.measure_version.version for s in answer_sets()}
    assert versions == {"1", "2"}


def test_who_may_import(app: Flask, world: World, factory: Factory) -> None:
    codes = people(world, factory, 1)
    data = csv_bytes(good_rows(world, codes))
    for user in (world.partner, world.other_partner, world.other_leader):
        client = as_user(app.test_client(), user)
        assert client.get(f"/groups/{world.group.id}/answers/import").status_code == 403
        assert upload(client, world, data).status_code == 403
        template = f"/groups/{world.group.id}/answers/import/template.csv?measure=calm7"
        assert client.get(template).status_code == 403
    assert answer_sets() == []
    manager = as_user(app.test_client(), world.manager)
    assert manager.get(f"/groups/{world.group.id}/answers/import").status_code == 200
    assert upload(manager, world, data).status_code == 302
    assert len(answer_sets()) == 1


def test_files_that_are_not_right_are_refused_with_a_message(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    codes = people(world, factory, 1)
    as_user(client, world.leader)
    cases = {
        b"x" * (MAX_BYTES + 1): "The file is larger than 1000 kB.",
        "code,date\n".encode("utf-16"): "The file is not a UTF-8 CSV file",
        b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe": "The file is not a UTF-8 CSV file",
        b"name,age\nAnn,4\n": "Header row: column(s) that are not questions of Calm scale",
        b"": "The file is empty.",
        csv_bytes([]): "There are no rows to import.",
        csv_bytes([["AWR-001", "2026-01-01", "paper", "", "1\x07", 2, 3, 4, 5, 1, 2]]): (
            "Row 2, item1: remove the control character"
        ),
    }
    for data, message in cases.items():
        response = upload(client, world, data)
        assert response.status_code == 400, message
        assert message in response.get_data(as_text=True), message
    too_many = csv_bytes(good_rows(world, codes) * (MAX_ROWS + 1))
    response = upload(client, world, too_many)
    assert response.status_code == 400
    assert "More than 2,000 rows" in response.get_data(as_text=True)
    no_file = client.post(
        f"/groups/{world.group.id}/answers/import",
        data={"measure": "calm7"},
        content_type="multipart/form-data",
    )
    assert no_file.status_code == 400
    assert "Choose a CSV file to upload." in no_file.get_data(as_text=True)
    unknown = upload(client, world, csv_bytes(good_rows(world, codes)), measure="nope")
    assert unknown.status_code == 400
    assert answer_sets() == []


def test_the_template_and_the_link_to_the_page(client: FlaskClient, world: World) -> None:
    as_user(client, world.leader)
    url = f"/groups/{world.group.id}/answers/import/template.csv"
    response = client.get(url + "?measure=calm7")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.get_data(as_text=True) == "\ufeff" + ",".join(HEADER) + "\r\n"
    ons4 = client.get(url + "?measure=ons4").get_data(as_text=True)
    assert ons4.startswith(
        "\ufeffcode,date,mode,session_date,life_satisfaction,worthwhile,happiness,anxiety"
    )
    assert client.get(url + "?measure=nope").status_code == 404
    assert client.get(url).status_code == 404
    measures = client.get(f"/groups/{world.group.id}/measures").get_data(as_text=True)
    assert f"/groups/{world.group.id}/answers/import" in measures
    page = client.get(f"/groups/{world.group.id}/answers/import").get_data(as_text=True)
    assert "refused as already imported" in page
    assert f"{url}?measure=calm7" in page


def test_mode_words() -> None:
    assert parse_mode("Filled in on paper by the person") == "self_paper"
    assert parse_mode(" read  ALOUD ") == "read_aloud"
    assert parse_mode("On the leader’s phone") == "self_phone"
    assert parse_mode("carrier pigeon") is None
