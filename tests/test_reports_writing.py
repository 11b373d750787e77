"""What managers add to partnership reports: the narrative and quotes (versioned, printed in the
report, read-only for the partner) and saved report presets (one click for each period)."""

from __future__ import annotations

import csv
import io
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.exports import operations
from readerapp.exports.models import ReportNarrative, ReportPreset, ReportQuote
from readerapp.exports.partnership_report import zone_today
from readerapp.exports.periods import last_complete_period
from readerapp.extensions import db

from . import exports_fixture
from .exports_fixture import Fixture
from .factories import Factory
from .groups_support import deferred_reads, fresh, no_csrf  # noqa: F401 (fixtures)
from .test_reports_partnership import q1_args, signed_in

NARRATIVE = "/reports/partnership/narrative"


@pytest.fixture
def fx(deferred_reads: None, no_csrf: None) -> Fixture:  # noqa: F811
    return exports_fixture.build()


@pytest.fixture
def people(fx: Fixture, factory: Factory) -> dict[str, object]:
    users = {
        "manager": factory.user("manager", display_name="Mona Manager"),
        "partner": factory.user("partner_viewer", organisation_id=fx.org1.id),
        "other_partner": factory.user("partner_viewer", organisation_id=fx.org2.id),
        "leader": fx.leader1,
    }
    db.session.commit()
    return users


def scope_args(fx: Fixture) -> dict[str, str]:
    return q1_args(organisation=str(fx.org1.id))


def narratives() -> list[tuple[int, str]]:
    fresh()
    return [
        (n.version, n.text)
        for n in db.session.scalars(sa.select(ReportNarrative).order_by(ReportNarrative.version))
    ]


def quote_fields(*quotes: tuple[str, str]) -> dict[str, str]:
    fields: dict[str, str] = {}
    for i, (text, attribution) in enumerate(quotes, start=1):
        fields[f"quote_{i}"], fields[f"attribution_{i}"] = text, attribution
    return fields


# --- Narrative and quotes -------------------------------------------------------------------


def test_each_save_is_a_new_version_and_the_latest_is_printed(
    app: Flask, fx: Fixture, people
) -> None:
    client = signed_in(app, people["manager"])
    args = scope_args(fx)
    page = client.get(NARRATIVE, query_string=args)
    assert page.status_code == 200 and "Nothing has been written" in page.get_data(as_text=True)
    first = client.post(
        NARRATIVE,
        query_string=args,
        data={"based_on": "0", "text": "A calm quarter.\nThe ward read poems."}
        | quote_fields(("It gave me a reason to get up.", "participant, Willow Ward")),
    )
    assert first.status_code == 302
    second = client.post(
        NARRATIVE,
        query_string=args,
        data={"based_on": "1", "text": "A busy quarter."}
        | quote_fields(("I could breathe.", ""), ("We talk more now.", "ward manager")),
    )
    assert second.status_code == 302
    assert narratives() == [(1, "A calm quarter.\nThe ward read poems."), (2, "A busy quarter.")]
    latest = db.session.scalar(sa.select(ReportNarrative).where(ReportNarrative.version == 2))
    assert [(q.position, q.text, q.attribution) for q in latest.quotes] == [
        (1, "I could breathe.", None),
        (2, "We talk more now.", "ward manager"),
    ]
    assert latest.saved_by_id == people["manager"].id and latest.saved_at.tzinfo is not None

    html = client.get("/reports/partnership", query_string=args).get_data(as_text=True)
    section = html.split('id="narrative-heading"', 1)[1]
    assert "A busy quarter." in section and "A calm quarter." not in section
    assert "<blockquote><p>We talk more now.</p></blockquote>" in section
    assert "— ward manager" in section and "Version 2" in section and "Mona Manager" in section
    assert "Edit the narrative and quotes" in section and "Earlier versions" in section

    versions = client.get(f"{NARRATIVE}/versions", query_string=args).get_data(as_text=True)
    assert "Version 1" in versions and "Version 2" in versions and "(shown)" in versions
    first_id = db.session.scalar(sa.select(ReportNarrative.id).where(ReportNarrative.version == 1))
    old = client.get(f"{NARRATIVE}/versions/{first_id}").get_data(as_text=True)
    assert "A calm quarter." in old and "participant, Willow Ward" in old

    # The CSV carries them too; the edit form starts from the latest version.
    rows = list(
        csv.reader(
            io.StringIO(
                client.get("/reports/partnership.csv", query_string=args, buffered=True)
                .get_data()
                .decode("utf-8-sig")
            )
        )
    )
    assert ["Quote", "We talk more now.", "ward manager"] in rows
    form = client.get(NARRATIVE, query_string=args).get_data(as_text=True)
    assert 'name="based_on" type="hidden" value="2"' in form and "We talk more now." in form


def test_another_period_has_its_own_narrative(app: Flask, fx: Fixture, people) -> None:
    client = signed_in(app, people["manager"])
    client.post(NARRATIVE, query_string=scope_args(fx), data={"based_on": "0", "text": "Q1."})
    other = scope_args(fx) | {"date_from": "2026-04-01", "date_to": "2026-06-30"}
    html = client.get("/reports/partnership", query_string=other).get_data(as_text=True)
    assert "Q1." not in html and "No narrative or quotes have been written" in html


def test_the_partner_reads_its_own_narrative_and_cannot_edit(
    app: Flask, fx: Fixture, people
) -> None:
    manager = signed_in(app, people["manager"])
    manager.post(
        NARRATIVE,
        query_string=scope_args(fx),
        data={"based_on": "0", "text": "Thank you, Northmoor."}
        | quote_fields(("Stories stay with me.", "participant")),
    )
    partner = signed_in(app, people["partner"])
    html = partner.get("/reports/partnership", query_string=q1_args()).get_data(as_text=True)
    section = html.split('id="narrative-heading"', 1)[1]
    assert "Thank you, Northmoor." in section and "Stories stay with me." in section
    assert "Edit the narrative" not in html and "Earlier versions" not in html
    assert "Mona Manager" not in section  # who saved it is staff's record
    for method in ("get", "post"):
        response = getattr(partner, method)(
            NARRATIVE, query_string=scope_args(fx), data={"based_on": "1", "text": "Mine now."}
        )
        assert response.status_code == 403
    assert partner.get(f"{NARRATIVE}/versions", query_string=scope_args(fx)).status_code == 403
    # Another organisation's partner sees neither that report nor its narrative.
    other = signed_in(app, people["other_partner"])
    assert other.get("/reports/partnership", query_string=scope_args(fx)).status_code == 403
    own = other.get("/reports/partnership", query_string=q1_args()).get_data(as_text=True)
    assert "Thank you, Northmoor." not in own
    leader = signed_in(app, people["leader"])
    assert (
        leader.post(NARRATIVE, query_string=scope_args(fx), data={"text": "x"}).status_code == 403
    )
    assert narratives() == [(1, "Thank you, Northmoor.")]


@pytest.mark.parametrize(
    "data, message",
    [
        ({"text": "x" * 5001}, "Keep it to 5000 characters"),
        ({"text": ""}, "Write a narrative or at least one quote"),
        ({"text": "Fine."} | quote_fields(("q" * 601, "")), "Keep it to 600 characters"),
        ({"text": "Fine."} | quote_fields(("Good.", "a" * 121)), "Keep it to 120 characters"),
        ({"text": "Fine."} | quote_fields(("", "participant")), "Enter the quote, or clear this"),
        ({"text": "Bell\x07"}, "control characters"),
    ],
)
def test_bad_narratives_are_refused_inline_and_nothing_is_written(
    app: Flask, fx: Fixture, people, data: dict[str, str], message: str
) -> None:
    client = signed_in(app, people["manager"])
    response = client.post(NARRATIVE, query_string=scope_args(fx), data={"based_on": "0"} | data)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert narratives() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportQuote)) == 0


def test_a_version_saved_meanwhile_is_not_overwritten(app: Flask, fx: Fixture, people) -> None:
    client = signed_in(app, people["manager"])
    client.post(NARRATIVE, query_string=scope_args(fx), data={"based_on": "0", "text": "Mine."})
    stale = client.post(
        NARRATIVE, query_string=scope_args(fx), data={"based_on": "0", "text": "Theirs."}
    )
    assert stale.status_code == 409
    assert "saved a newer version" in stale.get_data(as_text=True)
    assert narratives() == [(1, "Mine.")]


def test_two_saves_from_the_same_version_at_once_keep_one(
    app: Flask, fx: Fixture, people, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second save read no version yet (it checked before the first committed): the
    unique version number refuses it at the write, as a 409, not a 500."""
    client = signed_in(app, people["manager"])
    client.post(NARRATIVE, query_string=scope_args(fx), data={"based_on": "0", "text": "First."})
    monkeypatch.setattr(operations, "latest_narrative", lambda scope: None)
    late = client.post(
        NARRATIVE, query_string=scope_args(fx), data={"based_on": "0", "text": "Second."}
    )
    assert late.status_code == 409 and "saved a newer version" in late.get_data(as_text=True)
    monkeypatch.undo()
    assert narratives() == [(1, "First.")]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"organisation": ""}, "Choose a partner organisation"),
        ({"organisation": "424242"}, "Not a valid choice"),
        ({"date_to": "2025-01-01"}, "on or after the From date"),
        ({"date_from": "yesterday"}, "Not a valid date"),
    ],
)
def test_a_narrative_needs_a_whole_scope(
    app: Flask, fx: Fixture, people, args: dict[str, str], message: str
) -> None:
    client = signed_in(app, people["manager"])
    for method in ("get", "post"):
        response = getattr(client, method)(
            NARRATIVE, query_string=scope_args(fx) | args, data={"text": "x"}
        )
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert narratives() == []


def test_a_quote_holds_words_and_at_most_a_link_to_the_speakers_record() -> None:
    """No copy of a code or name: a participant's quote is tied to their record, for their
    consent to quotes (tests/test_outcomes_quotes_and_voices.py), and printed without it."""
    columns = set(ReportQuote.__table__.columns.keys())
    assert columns == {"id", "narrative_id", "position", "text", "attribution", "participant_id"}


# --- Presets --------------------------------------------------------------------------------

PRESETS = "/reports/presets"


def presets() -> list[tuple[str, str, str]]:
    fresh()
    return [
        (p.name, p.period_type, p.sections)
        for p in db.session.scalars(sa.select(ReportPreset).order_by(ReportPreset.name))
    ]


def test_a_saved_preset_runs_the_last_complete_period_in_one_click(
    app: Flask, fx: Fixture, people
) -> None:
    client = signed_in(app, people["manager"])
    response = client.post(
        PRESETS,
        data={
            "name": "Northmoor quarterly return",
            "organisation": str(fx.org1.id),
            "period_type": "quarter",
            "sections": ["groups", "comparison", "narrative"],
        },
    )
    assert response.status_code == 302
    assert presets() == [("Northmoor quarterly return", "quarter", "groups,comparison,narrative")]
    listing = client.get(PRESETS).get_data(as_text=True)
    assert "Northmoor quarterly return" in listing and "Northmoor Trust" in listing
    preset_id = db.session.scalar(sa.select(ReportPreset.id))

    run = client.get(f"{PRESETS}/{preset_id}/run")
    assert run.status_code == 302
    query = parse_qs(urlsplit(run.headers["Location"]).query)
    start, end = last_complete_period("quarter", zone_today(exports_fixture.LONDON))
    assert query["date_from"] == [start.isoformat()] and query["date_to"] == [end.isoformat()]
    assert query["organisation"] == [str(fx.org1.id)]
    assert sorted(query["section"]) == ["comparison", "groups", "narrative"]
    html = client.get(run.headers["Location"]).get_data(as_text=True)
    assert 'id="groups-heading"' in html and 'id="narrative-heading"' in html
    assert "<svg" not in html and 'id="texts-heading"' not in html

    current = client.get(f"{PRESETS}/{preset_id}/run", query_string={"period": "current"})
    query = parse_qs(urlsplit(current.headers["Location"]).query)
    assert date.fromisoformat(query["date_from"][0]) > end


def test_a_custom_preset_runs_its_own_dates_and_presets_can_be_deleted(
    app: Flask, fx: Fixture, people
) -> None:
    client = signed_in(app, people["manager"])
    client.post(
        PRESETS,
        data={
            "name": "Winter",
            "organisation": "",
            "period_type": "custom",
            "date_from": "2026-01-01",
            "date_to": "2026-03-31",
            "sections": ["months"],
        },
    )
    preset_id = db.session.scalar(sa.select(ReportPreset.id))
    run = client.get(f"{PRESETS}/{preset_id}/run")
    query = parse_qs(urlsplit(run.headers["Location"]).query)
    assert (query["date_from"], query["date_to"]) == (["2026-01-01"], ["2026-03-31"])
    assert "organisation" not in query  # every partner
    html = client.get(run.headers["Location"]).get_data(as_text=True)
    assert "Partnership report: all partners" in html and html.count('role="img"') == 2
    assert client.post(f"{PRESETS}/{preset_id}/delete").status_code == 302
    assert presets() == []
    assert client.get(f"{PRESETS}/{preset_id}/run").status_code == 404


@pytest.mark.parametrize(
    "data, message, status",
    [
        ({"name": ""}, "Enter a name", 400),
        ({"name": "n" * 101}, "Field cannot be longer than 100 characters", 400),
        ({"period_type": "fortnight"}, "Not a valid choice", 400),
        ({"period_type": "custom"}, "A custom range needs both dates", 400),
        (
            {"period_type": "custom", "date_from": "2026-03-01", "date_to": "2026-02-01"},
            "on or after the From date",
            400,
        ),
        ({"sections": []}, "Choose at least one section", 400),
        ({"sections": ["gossip"]}, "is not a valid choice", 400),
        ({"organisation": "424242"}, "Not a valid choice", 400),
        ({"name": "Taken"}, "A preset with this name exists already", 409),
    ],
)
def test_bad_presets_are_refused_inline_and_nothing_is_written(
    app: Flask, fx: Fixture, people, data: dict[str, object], message: str, status: int
) -> None:
    db.session.add(ReportPreset(name="Taken", period_type="month", sections="groups"))
    db.session.commit()
    client = signed_in(app, people["manager"])
    good = {"name": "Mine", "organisation": "", "period_type": "quarter", "sections": ["groups"]}
    response = client.post(PRESETS, data=good | data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert "There is a problem" in html and message in html
    assert presets() == [("Taken", "month", "groups")]


def test_partners_and_leaders_have_no_presets(app: Flask, fx: Fixture, people) -> None:
    db.session.add(ReportPreset(name="Staff only", period_type="month", sections="groups"))
    db.session.commit()
    preset_id = db.session.scalar(sa.select(ReportPreset.id))
    for role in ("partner", "leader"):
        client = signed_in(app, people[role])
        assert client.get(PRESETS).status_code == 403
        assert client.get(f"{PRESETS}/{preset_id}/run").status_code == 403
        assert (
            client.post(PRESETS, data={"name": "Mine", "period_type": "month"}).status_code == 403
        )
        assert client.post(f"{PRESETS}/{preset_id}/delete").status_code == 403
    partner_html = signed_in(app, people["partner"]).get("/reports/partnership")
    assert "Saved presets" not in partner_html.get_data(as_text=True)
    assert presets() == [("Staff only", "month", "groups")]
