"""Consent for a person's words and voice beyond the group: a quote tied to a participant code
is saved only with their current consent to quotes in reports and left out of every report
(page, print, downloads) once they withdraw it; an episode lists the codes heard in it only with
their consent to their voice in a radio recording, and warns staff once one withdraws it."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.exports.models import ReportNarrative, ReportQuote
from readerapp.extensions import db
from readerapp.outcomes.answers import record_consent
from readerapp.outcomes.models import EpisodeVoice
from readerapp.outcomes.voices import WITHDRAWN_WARNING
from readerapp.timeutil import to_local, utcnow

from . import exports_fixture
from .api_helpers import build_api_world, is_problem
from .exports_fixture import Fixture
from .factories import Factory
from .groups_support import deferred_reads, fresh, no_csrf  # noqa: F401 (fixtures)
from .test_reports_partnership import q1_args, signed_in

NARRATIVE = "/reports/partnership/narrative"


def today() -> date:
    return to_local(utcnow()).date()


def consent(person, purpose: str, given: bool, on: date | None = None) -> None:  # type: ignore[no-untyped-def]
    record_consent(person, purpose, given, on or today() - timedelta(days=3), None)
    db.session.commit()


@pytest.fixture
def fx(deferred_reads: None, no_csrf: None) -> Fixture:  # noqa: F811
    return exports_fixture.build()


@pytest.fixture
def manager(fx: Fixture, factory: Factory):  # type: ignore[no-untyped-def]
    user = factory.user("manager", display_name="Mona Manager")
    db.session.commit()
    return user


def participant(code: str):  # type: ignore[no-untyped-def]
    from readerapp.attendance.models import Participant

    return db.session.scalar(sa.select(Participant).where(Participant.code == code))


def post_narrative(client, fx: Fixture, based_on: int, *quotes: tuple[str, str, str]):  # type: ignore[no-untyped-def]
    data = {"based_on": str(based_on), "text": "A good quarter."}
    for i, (text, attribution, code) in enumerate(quotes, start=1):
        data |= {f"quote_{i}": text, f"attribution_{i}": attribution, f"code_{i}": code}
    return client.post(NARRATIVE, query_string=q1_args(organisation=str(fx.org1.id)), data=data)


def test_a_quote_with_a_code_needs_current_consent_to_quotes(
    app: Flask, fx: Fixture, manager
) -> None:
    client = signed_in(app, manager)
    refused = post_narrative(client, fx, 0, ("It gave me a reason to get up.", "participant", "P1"))
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Quote 1: P1 has not consented to quotes in reports" in html
    assert 'id="code_1-error"' in html
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReportNarrative)) == 0

    unknown = post_narrative(client, fx, 0, ("Words.", "", "NOBODY"))
    assert unknown.status_code == 400
    assert "No participant has the code NOBODY." in unknown.get_data(as_text=True)
    # A code needs its quote.
    stray = post_narrative(client, fx, 0, ("Words.", "", ""), ("", "", "P1"))
    assert stray.status_code == 400 and "Enter the quote, or clear this" in stray.get_data(
        as_text=True
    )
    # Evaluation consent is not consent to quotes.
    consent(participant("P1"), "evaluation", True)
    assert post_narrative(client, fx, 0, ("Words.", "", "P1")).status_code == 400

    consent(participant("P1"), "quotes", True)
    saved = post_narrative(
        client, fx, 0, ("It gave me a reason to get up.", "participant", "P1"), ("Calm.", "", "")
    )
    assert saved.status_code == 302
    fresh()
    quotes = db.session.scalars(sa.select(ReportQuote).order_by(ReportQuote.position)).all()
    assert [q.participant_id for q in quotes] == [participant("P1").id, None]
    # The edit form starts from the saved code; the report never prints it.
    form = client.get(NARRATIVE, query_string=q1_args(organisation=str(fx.org1.id)))
    assert 'name="code_1" type="text" value="P1"' in form.get_data(as_text=True)
    report = client.get("/reports/partnership", query_string=q1_args(organisation=str(fx.org1.id)))
    section = report.get_data(as_text=True).split('id="narrative-heading"', 1)[1]
    assert "It gave me a reason to get up." in section and "P1" not in section


def test_a_quote_whose_consent_was_withdrawn_is_left_out_of_every_report(
    app: Flask, fx: Fixture, manager, factory: Factory
) -> None:
    consent(participant("P2"), "quotes", True, today() - timedelta(days=5))
    client = signed_in(app, manager)
    args = q1_args(organisation=str(fx.org1.id))
    saved = post_narrative(
        client, fx, 0, ("Reading aloud helps.", "participant", "P2"), ("We talk more.", "nurse", "")
    )
    assert saved.status_code == 302
    consent(participant("P2"), "quotes", False)

    html = client.get("/reports/partnership", query_string=args).get_data(as_text=True)
    section = html.split('id="narrative-heading"', 1)[1]
    assert "Reading aloud helps." not in section and "We talk more." in section
    assert "1 quote is left out: the person quoted withdrew their consent" in section
    for fmt in ("csv", "xlsx"):
        body = client.get(f"/reports/partnership.{fmt}", query_string=args, buffered=True)
        assert body.status_code == 200
    text = client.get("/reports/partnership.csv", query_string=args, buffered=True).get_data()
    assert "Reading aloud helps." not in text.decode("utf-8-sig")
    assert "We talk more." in text.decode("utf-8-sig")
    xlsx = client.get("/reports/partnership.xlsx", query_string=args, buffered=True).get_data()
    assert b"Reading aloud helps." not in _xlsx_strings(xlsx)
    # The writer is told on the edit form; saving it again as it was is refused.
    form = client.get(NARRATIVE, query_string=args).get_data(as_text=True)
    assert "1 quote of version 1 comes from a person who has withdrawn" in form
    again = post_narrative(
        client, fx, 1, ("Reading aloud helps.", "participant", "P2"), ("We talk more.", "nurse", "")
    )
    assert again.status_code == 400
    # The partner's own report leaves it out too, with no note meant for the writer.
    partner = factory.user("partner_viewer", organisation_id=fx.org1.id)
    db.session.commit()
    seen = signed_in(app, partner).get("/reports/partnership", query_string=args)
    page = seen.get_data(as_text=True)
    assert "Reading aloud helps." not in page and "left out" not in page
    # Erasure deletes the ledger: the quote stays out.
    from readerapp.privacy.operations import erase_participant

    erase_participant(participant("P2"))
    db.session.commit()
    html = client.get("/reports/partnership", query_string=args).get_data(as_text=True)
    assert "Reading aloud helps." not in html


def _xlsx_strings(data: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(data)) as book:
        return book.read("xl/sharedStrings.xml")


# --- Voices in radio recordings -----------------------------------------------------------------


@pytest.fixture
def radio(factory: Factory, no_csrf: None):  # type: ignore[no-untyped-def]  # noqa: F811
    host = factory.organisation(name="Low Moss")
    people = {code: factory.participant(host, code=code) for code in ("LM-01", "LM-02")}
    episode = factory.episode(title="Roads")
    staff = factory.user("manager")
    db.session.commit()
    return episode, people, staff


def test_an_episode_lists_voices_only_with_consent_and_warns_once_withdrawn(
    app: Flask, radio
) -> None:
    episode, people, staff = radio
    client = signed_in(app, staff)
    url = f"/radio/episodes/{episode.id}/voices"
    refused = client.post(url, data={"codes": "LM-01, LM-02"})
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "LM-01, LM-02 have not consented to their voice in a radio recording" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EpisodeVoice)) == 0
    assert "No participant has the code NOPE" in client.post(url, data={"codes": "NOPE"}).get_data(
        as_text=True
    )

    for person in people.values():
        consent(person, "radio_voice", True, today() - timedelta(days=5))
    saved = client.post(url, data={"codes": "LM-01\nLM-02\nLM-01"})
    assert saved.status_code == 302
    fresh()
    assert {v.participant_id for v in db.session.scalars(sa.select(EpisodeVoice))} == {
        p.id for p in people.values()
    }
    library = client.get("/radio/programmes").get_data(as_text=True)
    assert WITHDRAWN_WARNING not in library and f"/radio/episodes/{episode.id}/voices" in library

    consent(people["LM-02"], "radio_voice", False)
    library = client.get("/radio/programmes").get_data(as_text=True)
    assert f"{WITHDRAWN_WARNING}</strong> (LM-02)" in library
    page = client.get(url).get_data(as_text=True)
    assert WITHDRAWN_WARNING in page and "LM-02 — <strong>consent withdrawn</strong>" in page
    # Taking the voice out of the list clears the warning.
    assert client.post(url, data={"codes": "LM-01"}).status_code == 302
    assert WITHDRAWN_WARNING not in client.get("/radio/programmes").get_data(as_text=True)


def test_voices_are_for_staff_only(app: Flask, radio, factory: Factory) -> None:
    episode = radio[0]
    leader = factory.user("reader_leader")
    db.session.commit()
    client = signed_in(app, leader)
    assert client.get(f"/radio/episodes/{episode.id}/voices").status_code == 403
    assert (
        client.post(f"/radio/episodes/{episode.id}/voices", data={"codes": ""}).status_code == 403
    )


def test_the_api_lists_voices_for_staff_with_problems_for_bad_input(client) -> None:  # type: ignore[no-untyped-def]
    aw = build_api_world()
    f = Factory()
    w = aw.world
    heard = f.participant(w.host, code="VOICE-1")
    record_consent(heard, "radio_voice", True, today() - timedelta(days=5), None)
    db.session.commit()
    url = f"/api/v1/episodes/{aw.ids['episode']}/voices"

    refused = client.put(url, headers=aw.headers("manager"), json={"codes": [w.participant.code]})
    assert refused.status_code == 422 and is_problem(refused)
    assert "has not consented to their voice in a radio recording" in refused.get_json()["detail"]
    bad = client.put(url, headers=aw.headers("manager"), json={"codes": "VOICE-1"})
    assert bad.status_code == 422 and is_problem(bad)
    for role in ("leader", "partner"):
        assert client.get(url, headers=aw.headers(role)).status_code in (403, 404)
        assert client.put(url, headers=aw.headers(role), json={"codes": []}).status_code in (
            403,
            404,
        )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(EpisodeVoice)) == 0

    saved = client.put(url, headers=aw.headers("manager"), json={"codes": ["VOICE-1"]})
    assert saved.status_code == 200
    assert saved.get_json() == {
        "episode_id": aw.ids["episode"],
        "voices": [{"code": "VOICE-1", "consent_in_force": True}],
        "warning": None,
    }
    record_consent(heard, "radio_voice", False, today(), None)
    db.session.commit()
    shown = client.get(url, headers=aw.headers("admin")).get_json()
    assert shown["warning"] == WITHDRAWN_WARNING
    assert shown["voices"] == [{"code": "VOICE-1", "consent_in_force": False}]
    # The episode itself, which stations read, carries no codes.
    episode = client.get(f"/api/v1/episodes/{aw.ids['episode']}", headers=aw.headers("partner"))
    assert "VOICE-1" not in episode.get_data(as_text=True)
