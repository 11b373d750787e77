"""Consent and answers on the web: the consent ledger on a participant's page, a person's answers
entered from paper, and a session's anonymous feedback sheets. No answers without consent; every
refusal inline with nothing written; only the group's leaders and staff; every showing of a
person's answers in the audit trail, their values never."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.access import may_record_answers, may_record_consent, may_see_answers
from readerapp.extensions import db
from readerapp.outcomes.answers import consent_in_force, record_consent
from readerapp.outcomes.consent import WORDINGS
from readerapp.outcomes.models import AnswerSet, ConsentRecord, MeasureVersion
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.timeutil import to_local, utcnow

from .audit_support import all_changes_text, deferred_reads, events, live_logs  # noqa: F401
from .factories import Factory
from .test_outcomes_measures import calm_file
from .world import World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("deferred_reads")

ONS_ITEMS = ("life_satisfaction", "worthwhile", "happiness", "anxiety")


def today() -> date:
    return to_local(utcnow()).date()


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def world(factory: Factory, tmp_path: Path, no_csrf: None) -> World:
    built = build_world(factory)
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))  # by participant code only, never anonymous
    db.session.commit()
    return built


def version_of(key: str) -> MeasureVersion:
    return next(v for v in db.session.scalars(sa.select(MeasureVersion)) if v.measure.key == key)


def as_user(client: FlaskClient, user) -> FlaskClient:
    sign_in_as(client, user)
    return client


def answer_sets() -> list[AnswerSet]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AnswerSet).order_by(AnswerSet.id)))


def consent_entries() -> list[ConsentRecord]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)))


def give_consent(world: World, on: date | None = None) -> None:
    record_consent(
        world.participant, "evaluation", True, on or today() - timedelta(days=20), world.admin.id
    )
    db.session.commit()


# --- The consent ledger ----------------------------------------------------------------------


def consent_form(change: str, on: date | str, purpose: str = "evaluation") -> dict[str, str]:
    return {f"{purpose}-change": change, f"{purpose}-on_date": str(on)}


def test_consent_is_recorded_and_withdrawn_on_the_participant_page(
    client: FlaskClient, world: World
) -> None:
    p = world.participant
    url = f"/participants/{p.id}"
    page = as_user(client, world.leader).get(url).get_data(as_text=True)
    # Every purpose, its exact wording and version, and today's (local) date ready.
    for wording in WORDINGS.values():
        assert wording.label in page and wording.text in page
    assert page.count("No consent recorded.") == len(WORDINGS)
    assert f'value="{today().isoformat()}"' in page

    response = client.post(f"{url}/consent/evaluation", data=consent_form("given", today()))
    assert response.status_code == 302 and response.location.endswith(f"{url}#consent")
    (entry,) = consent_entries()
    assert (entry.purpose, entry.given, entry.wording_version) == ("evaluation", True, "1")
    assert (entry.on_date, entry.recorded_by_id) == (today(), world.leader.id)
    page = client.get(url).get_data(as_text=True)
    assert "Taking part in evaluation: consent given" in page  # the flash
    assert "Given</span> on" in page and "(wording version 1)" in page
    assert "History (1 entry)" in page and "by Lee Leader" in page

    response = client.post(f"{url}/consent/evaluation", data=consent_form("withdrawn", today()))
    assert response.status_code == 302
    assert [e.given for e in consent_entries()] == [True, False]
    assert not consent_in_force(p.id, "evaluation")
    page = client.get(url).get_data(as_text=True)
    assert "Withdrawn</span> on" in page and "History (2 entries)" in page
    # Each purpose on its own: quotes still untouched.
    assert page.count("No consent recorded.") == len(WORDINGS) - 1


def test_consent_refusals_are_inline_and_write_nothing(client: FlaskClient, world: World) -> None:
    url = f"/participants/{world.participant.id}/consent"
    as_user(client, world.manager)
    cases = [
        (consent_form("given", today() + timedelta(days=1)), 400, "not in the future"),
        (consent_form("withdrawn", today()), 409, "There is no consent to withdraw."),
        (consent_form("maybe", today()), 400, "Not a valid choice"),
        ({"evaluation-on_date": str(today())}, 400, "Say whether consent was given or withdrawn."),
        (consent_form("given", "31/02/2026"), 400, "Not a valid date value"),
    ]
    for data, status, message in cases:
        response = client.post(f"{url}/evaluation", data=data)
        assert response.status_code == status, data
        assert message in response.get_data(as_text=True)
    assert consent_entries() == []
    assert client.post(f"{url}/marketing", data=consent_form("given", today())).status_code == 404

    assert (
        client.post(f"{url}/quotes", data=consent_form("given", today(), "quotes")).status_code
        == 302
    )
    again = client.post(f"{url}/quotes", data=consent_form("given", today(), "quotes"))
    assert again.status_code == 409 and "Consent is already given." in again.get_data(as_text=True)
    assert len(consent_entries()) == 1


def test_who_may_record_consent(app: Flask, world: World) -> None:
    p = world.participant
    assert may_record_consent(world.leader, p) and may_record_consent(world.manager, p)
    assert may_record_consent(world.admin, p)
    for user in (world.other_leader, world.partner, world.other_partner):
        assert not may_record_consent(user, p)
        client = as_user(app.test_client(), user)
        response = client.post(
            f"/participants/{p.id}/consent/evaluation", data=consent_form("given", today())
        )
        assert response.status_code == 403
    assert consent_entries() == []
    # A manager who may record it sees the form; an erased person's ledger takes no entries.
    manager = as_user(app.test_client(), world.manager)
    form_action = f'action="/participants/{p.id}/consent/evaluation"'
    assert form_action in manager.get(f"/participants/{p.id}").get_data(as_text=True)
    p.erased_at = utcnow()
    db.session.commit()
    assert form_action not in manager.get(f"/participants/{p.id}").get_data(as_text=True)
    response = manager.post(
        f"/participants/{p.id}/consent/evaluation", data=consent_form("given", today())
    )
    assert response.status_code == 400 and "has been erased" in response.get_data(as_text=True)
    assert consent_entries() == []


# --- A person's answers from paper -----------------------------------------------------------


def answers_form(world: World, **answers: object) -> dict[str, object]:
    data: dict[str, object] = {
        "measure_version_id": version_of("ons4").id,
        "participant_id": world.participant.id,
        "answered_on": str(to_local(world.past_session.start_dt).date()),
        "mode": "self_paper",
    }
    data.update({f"item_{key}": value for key, value in answers.items()})
    return data


def test_no_answers_without_consent(client: FlaskClient, world: World) -> None:
    url = f"/sessions/{world.past_session.id}/answers?measure=ons4"
    page = as_user(client, world.leader).get(url).get_data(as_text=True)
    # Present but without consent: not offered, listed with a way to record it.
    assert f'name="participant_id" type="radio" value="{world.participant.id}"' not in page
    assert (
        "no consent recorded — " in page and f"/participants/{world.participant.id}#consent" in page
    )
    response = client.post(url, data=answers_form(world, life_satisfaction=7))
    assert response.status_code == 400
    assert "has not consented to taking part in evaluation" in response.get_data(as_text=True)
    assert answer_sets() == []


def test_a_partial_set_is_saved_from_paper_with_who_and_how(
    client: FlaskClient, world: World
) -> None:
    give_consent(world)
    url = f"/sessions/{world.past_session.id}/answers"
    page = as_user(client, world.leader).get(url).get_data(as_text=True)
    # Two measures by code: the leader chooses which was on paper.
    assert "Which measure?" in page and "Calm scale (7 items)" in page
    page = client.get(url + "?measure=ons4").get_data(as_text=True)
    assert "Overall, how satisfied are you with your life nowadays?" in page
    assert "Office for National Statistics" in page  # the acknowledgement on the form
    assert f'value="{world.participant.id}"' in page
    assert f'value="{to_local(world.past_session.start_dt).date().isoformat()}"' in page
    assert re.search(r'<input checked[^>]*name="mode"[^>]*value="self_paper"', page)
    assert "0 – Not at all" in page and "10 – Completely" in page

    data = answers_form(world, life_satisfaction=7, anxiety=2)
    data["mode"] = "read_aloud"
    response = client.post(url, data=data)
    assert response.status_code == 302 and response.location.endswith("measure=ons4")
    (saved,) = answer_sets()
    assert saved.answers == {"life_satisfaction": 7, "anxiety": 2} and not saved.complete
    assert (saved.participant_id, saved.session_id, saved.group_id) == (
        world.participant.id,
        world.past_session.id,
        world.group.id,
    )
    assert (saved.mode, saved.entered_by_id) == ("read_aloud", world.leader.id)
    follow = client.get(response.location).get_data(as_text=True)
    assert "2 of 4 questions answered (a partial set)" in follow
    # The entry is in the audit trail; the answers themselves are not.
    (created,) = events(action="create", entity_type="answer_set")
    assert created.changes["answers"][-1] == "[hidden]"


def test_answer_refusals_are_per_item_and_write_nothing(client: FlaskClient, world: World) -> None:
    give_consent(world)
    url = f"/sessions/{world.past_session.id}/answers"
    as_user(client, world.leader)
    response = client.post(url, data=answers_form(world, life_satisfaction=11, anxiety="x"))
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Choose an answer from 0 to 10." in page and "Choose one of the answers offered." in page
    assert 'id="item_life_satisfaction-error"' in page and 'id="item_anxiety-error"' in page
    response = client.post(url, data=answers_form(world))  # nothing answered
    assert response.status_code == 400 and "Give at least one answer." in response.get_data(
        as_text=True
    )
    stranger = Factory().participant(world.host, code="NOT-HERE")
    record_consent(stranger, "evaluation", True, today(), None)
    db.session.commit()
    data = answers_form(world, worthwhile=5) | {"participant_id": stranger.id}
    response = client.post(url, data=data)
    assert response.status_code == 400
    assert "Choose someone ticked present at this session." in response.get_data(as_text=True)
    data = answers_form(world, worthwhile=5) | {"answered_on": str(today() + timedelta(days=2))}
    response = client.post(url, data=data)
    assert response.status_code == 400 and "not in the future" in response.get_data(as_text=True)
    response = client.post(url, data=answers_form(world, worthwhile=5) | {"measure_version_id": 0})
    assert response.status_code == 400
    assert "Choose a measure: the one sent is not loaded." in response.get_data(as_text=True)
    assert answer_sets() == []


def test_a_session_still_to_come_takes_no_answers(client: FlaskClient, world: World) -> None:
    give_consent(world)
    url = f"/sessions/{world.future_session.id}/answers?measure=ons4"
    page = as_user(client, world.leader).get(url).get_data(as_text=True)
    assert "has not happened yet" in page and "Save answers" not in page
    assert client.post(url, data=answers_form(world, worthwhile=5)).status_code == 400
    assert answer_sets() == []


# --- Anonymous feedback ----------------------------------------------------------------------


def test_anonymous_feedback_sheet_after_sheet(client: FlaskClient, world: World) -> None:
    url = f"/sessions/{world.past_session.id}/feedback"
    page = as_user(client, world.leader).get(url).get_data(as_text=True)
    # Only ONS4 may be answered anonymously: no choice to make, no one to choose.
    assert "Calm scale" not in page and "Overall, how happy did you feel yesterday?" in page
    assert "participant_id" not in page and "Sheets recorded for this session: <strong>0" in page
    ons = version_of("ons4")
    sheet = {
        "measure_version_id": ons.id,
        "answered_on": str(to_local(world.past_session.start_dt).date()),
        "mode": "self_paper",
        "item_happiness": 8,
    }
    response = client.post(url, data=sheet)
    assert response.status_code == 302 and "saved=1" in response.location
    page = client.get(response.location).get_data(as_text=True)
    assert "Feedback sheet saved." in page and "Record another" in page
    assert "Sheets recorded for this session: <strong>1" in page and "Save this sheet" not in page
    assert client.post(url, data=sheet | {"item_anxiety": 3}).status_code == 302
    first, second = answer_sets()
    assert first.participant_id is None and second.participant_id is None
    assert first.session_id == world.past_session.id and not first.complete
    assert second.answers == {"happiness": 8, "anxiety": 3}
    # A measure used only by code is refused, and nothing is written.
    calm = version_of("calm7")
    response = client.post(url, data=sheet | {"measure_version_id": calm.id, "item_item1": 2})
    assert response.status_code == 400
    assert "is not used anonymously" in response.get_data(as_text=True)
    assert len(answer_sets()) == 2


# --- Who may, and the audit ------------------------------------------------------------------


def test_access_to_the_entry_pages(app: Flask, world: World) -> None:
    assert may_record_answers(world.leader, world.group)
    assert not may_record_answers(world.other_leader, world.group)
    expected = {
        world.leader: 200,
        world.manager: 200,
        world.admin: 200,
        world.other_leader: 403,
        world.partner: 403,
        world.other_partner: 403,
    }
    give_consent(world)
    for user, status in expected.items():
        client = as_user(app.test_client(), user)
        for page in ("answers", "feedback"):
            url = f"/sessions/{world.past_session.id}/{page}?measure=ons4"
            assert client.get(url).status_code == status, (user.role, page)
        post = client.post(
            f"/sessions/{world.past_session.id}/answers", data=answers_form(world, happiness=6)
        )
        assert post.status_code == (302 if status == 200 else 403), user.role
    assert len(answer_sets()) == 3  # leader, manager, admin
    # The session page offers the entry pages to those who may use them, and to nobody else.
    detail = f"/sessions/{world.past_session.id}"
    leader_page = as_user(app.test_client(), world.leader).get(detail).get_data(as_text=True)
    assert "Record answers" in leader_page and "Record anonymous feedback" in leader_page
    partner_page = as_user(app.test_client(), world.partner).get(detail).get_data(as_text=True)
    assert "Record answers" not in partner_page and "/answers" not in partner_page


def test_showing_a_persons_consent_is_audited_entry_by_entry(app: Flask, world: World) -> None:
    url = f"/participants/{world.participant.id}"
    leader = as_user(app.test_client(), world.leader)
    # Nothing recorded yet: nothing shown, nothing in the trail.
    assert "No consent recorded." in leader.get(url).get_data(as_text=True)
    assert events(action="view_consent") == []
    give_consent(world, today() - timedelta(days=9))
    record_consent(world.participant, "quotes", True, today() - timedelta(days=9), None)
    record_consent(world.participant, "quotes", False, today() - timedelta(days=2), None)
    db.session.commit()
    ids = sorted(e.id for e in consent_entries())
    assert leader.get(url).status_code == 200
    shown = events(action="view_consent")
    assert sorted(int(e.entity_id) for e in shown) == ids
    assert {(e.entity_type, e.actor_id) for e in shown} == {("consent_record", world.leader.id)}
    assert all(
        e.changes == {"page": "participant", "participant_id": world.participant.id} for e in shown
    )
    # Each showing is recorded; a refused one is not.
    manager = as_user(app.test_client(), world.manager)
    assert manager.get(url).status_code == 200
    assert len(events(action="view_consent", actor_id=world.manager.id)) == 3
    assert as_user(app.test_client(), world.partner).get(url).status_code in (403, 404)
    assert len(events(action="view_consent")) == 6
    # The trail says it in words.
    trail = as_user(app.test_client(), world.admin).get("/audit").get_data(as_text=True)
    assert "Viewed" in trail and "Consent entry" in trail


def test_showing_a_persons_answers_is_audited(app: Flask, world: World) -> None:
    give_consent(world)
    leader = as_user(app.test_client(), world.leader)
    for value in (3, 9):
        data = answers_form(world, worthwhile=value)
        assert leader.post(f"/sessions/{world.past_session.id}/answers", data=data).status_code == (
            302
        )
    ids = [a.id for a in answer_sets()]
    url = f"/participants/{world.participant.id}"
    page = leader.get(url).get_data(as_text=True)
    # The page says answers are held; it shows them on request only.
    assert "2 answer sets held." in page and "Worthwhile" not in page
    assert events(action="view_answers") == []
    page = leader.get(url + "?show=answers").get_data(as_text=True)
    assert (
        "Worthwhile" in page
        and "a partial set" in page
        and "Office for National Statistics" in page
    )
    shown = events(action="view_answers")
    assert sorted(int(e.entity_id) for e in shown) == sorted(ids)
    assert {(e.entity_type, e.actor_id) for e in shown} == {("answer_set", world.leader.id)}
    assert all(
        e.changes == {"page": "participant", "participant_id": world.participant.id} for e in shown
    )
    # A manager may see them too (and is recorded); another group's leader and partners never.
    assert may_see_answers(world.manager, world.participant)
    manager = as_user(app.test_client(), world.manager)
    assert manager.get(url + "?show=answers").status_code == 200
    assert len(events(action="view_answers", actor_id=world.manager.id)) == 2
    for user in (world.other_leader, world.partner):
        assert not may_see_answers(user, world.participant)
        assert as_user(app.test_client(), user).get(url + "?show=answers").status_code == 403
    assert len(events(action="view_answers")) == 4
    # Nothing in the trail holds an answer.
    assert '"worthwhile"' not in all_changes_text()


@pytest.mark.usefixtures("live_logs")
def test_answers_never_reach_log_lines(
    client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    give_consent(world)
    as_user(client, world.leader)
    url = f"/sessions/{world.past_session.id}/answers"
    assert client.post(url, data=answers_form(world, worthwhile=9, anxiety=1)).status_code == 302
    assert client.post(url, data=answers_form(world, worthwhile=12)).status_code == 400
    page = f"/participants/{world.participant.id}?show=answers"
    assert "Worthwhile" in client.get(page).get_data(as_text=True)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "collecting.record_answers" in logged  # the lines were captured
    for never in (
        "worthwhile",
        "anxiety",
        "Worthwhile",
        "Choose an answer",
        world.participant.code,
    ):
        assert never not in logged


def test_a_sheet_sent_twice_is_stored_once(client: FlaskClient, world: World) -> None:
    give_consent(world)
    answers_url = f"/sessions/{world.past_session.id}/answers?measure=ons4"
    page = as_user(client, world.leader).get(answers_url).get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    data = answers_form(world, life_satisfaction=7) | {"form_token": token.group(1)}
    assert client.post(answers_url, data=data).status_code == 302
    # A double tap on Save, or Back then Save: the same sheet again.
    again = client.post(answers_url, data=data, follow_redirects=True)
    assert "These answers were saved already" in again.get_data(as_text=True)
    assert len(answer_sets()) == 1

    feedback_url = f"/sessions/{world.past_session.id}/feedback"
    page = client.get(feedback_url).get_data(as_text=True)
    token = re.search(r'name="form_token" type="hidden" value="([^"]+)"', page)
    assert token is not None
    sheet = {
        "measure_version_id": version_of("ons4").id,
        "answered_on": str(to_local(world.past_session.start_dt).date()),
        "mode": "self_paper",
        "item_happiness": 8,
        "form_token": token.group(1),
    }
    assert client.post(feedback_url, data=sheet).status_code == 302
    assert "saved already" in client.post(feedback_url, data=sheet, follow_redirects=True).get_data(
        as_text=True
    )
    assert len(answer_sets()) == 2
