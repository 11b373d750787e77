"""The phone handed to a participant: one question per screen, answers kept on the server (the
signed session cookie holds only a token) until the leader saves them (mode self_phone, dated
the session's day), skips saved as a partial set, and every refusal a clear 4xx page with
nothing written."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.attendance.models import Participant
from readerapp.extensions import db
from readerapp.outcomes.answers import record_consent
from readerapp.outcomes.hand_over import find_hand_over
from readerapp.outcomes.models import AnswerSet, HandOver, MeasureVersion
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.outcomes.self_completion import PROGRESS_KEY, PROGRESS_LIFETIME_SECONDS
from readerapp.privacy import apply_retention, erase_participant
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import to_local, utcnow

from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .test_outcomes_measures import calm_file
from .world import SECRET_CODE, World, build_world, sign_in_as

CALM_ITEMS = 7


@dataclass
class Setting:
    world: World
    session: ReadingSession
    consented: Participant  # present, consented to evaluation
    calm: MeasureVersion  # 7 items, answered 1–5, by code only
    ons4: MeasureVersion
    anonymous: MeasureVersion  # used anonymously only

    @property
    def start_url(self) -> str:
        return f"/sessions/{self.session.id}/hand-over"

    @property
    def question_url(self) -> str:
        return f"{self.start_url}/question"


@pytest.fixture
def setting(factory, tmp_path: Path, no_csrf: None) -> Setting:  # noqa: F811
    world = build_world(factory)
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))
    (tmp_path / "anon").mkdir()
    load_measure_file(
        calm_file(tmp_path / "anon", key='"feedback7"', name='"Feedback"', uses='["anonymous"]')
    )
    versions = {v.measure.key: v for v in db.session.scalars(sa.select(MeasureVersion))}
    session = world.past_session
    consented = factory.participant(world.host, code="AWR-001")
    factory.register(session, consented)
    day = to_local(session.start_dt).date()
    record_consent(consented, "evaluation", True, day, world.leader.id)
    db.session.commit()
    return Setting(
        world, session, consented, versions["calm7"], versions["ons4"], versions["feedback7"]
    )


def _client(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    return client


def _begin(client: FlaskClient, s: Setting, version: MeasureVersion | None = None):
    version = version or s.calm
    return client.post(
        s.start_url,
        data={"participant_id": s.consented.id, "measure_version_id": version.id},
    )


def _answer(client: FlaskClient, s: Setting, item: str, value: int | None):
    data: dict[str, object] = {"item": item}
    if value is None:
        data["action"] = "skip"
    else:
        data |= {"action": "answer", "answer": value}
    return client.post(s.question_url, data=data)


@dataclass(frozen=True)
class Kept:
    """A hand-over row as the database holds it, read outside any request."""

    answers: dict[str, int]
    position: int
    participant_id: int
    leader_id: int


def _token(client: FlaskClient) -> object:
    with client.session_transaction() as kept:
        return kept.get(PROGRESS_KEY)


def _progress(client: FlaskClient) -> Kept | None:
    """The hand-over this browser's cookie opens, or None."""
    db.session.rollback()
    row = find_hand_over(_token(client))
    kept = (
        None
        if row is None
        else Kept(dict(row.answers), row.position, row.participant_id, row.leader_id)
    )
    db.session.rollback()  # no read transaction left open for the next request to wait on
    return kept


def _rows() -> int:
    db.session.rollback()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(HandOver))
    db.session.rollback()
    return count or 0


def _change_row(client: FlaskClient, **values: object) -> None:
    """Change the hand-over this browser holds, as a tampered or aged row would be."""
    db.session.rollback()
    row = find_hand_over(_token(client))
    assert row is not None
    for name, value in values.items():
        setattr(row, name, value)
    db.session.commit()


def _cookie(app: Flask, client: FlaskClient) -> dict[str, object]:
    """The signed session cookie's contents, decoded as anyone holding the browser could."""
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    assert cookie is not None
    return app.session_interface.get_signing_serializer(app).loads(cookie.value)


def _saved() -> list[AnswerSet]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AnswerSet)))


def test_a_participant_answers_on_the_phone_and_the_leader_saves_the_set(
    app: Flask, setting: Setting, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    s = setting
    leader = _client(app, s.world.leader)
    detail = leader.get(f"/sessions/{s.session.id}").text
    assert f'href="{s.start_url}"' in detail

    start = leader.get(s.start_url)
    assert start.status_code == 200
    assert f'id="participant-{s.consented.id}"' in start.text
    # Present without consent: shown as needing it, and not offered.
    assert SECRET_CODE in start.text and "Need consent to evaluation first" in start.text
    assert f'id="participant-{s.world.participant.id}"' not in start.text
    assert "Feedback" not in start.text  # used anonymously only

    begun = _begin(leader, s)
    assert begun.status_code == 303 and begun.headers["Location"].endswith(s.question_url)

    values = [5, 4, 3, 2, 1, 2, 3]
    for number, value in enumerate(values, start=1):
        screen = leader.get(s.question_url)
        assert screen.status_code == 200
        assert screen.headers["Cache-Control"] == "no-store"
        assert f"Question {number} of {CALM_ITEMS}" in screen.text
        text = "I have felt calm" if number == 1 else f"Made-up item {number}"
        assert f">{text}</h1>" in screen.text
        assert "Calm scale © Example University, used under licence" in screen.text
        # Nothing but the question: no code, name, header, menu or link.
        for absent in ("AWR-001", SECRET_CODE, "site-header", "<nav", "<a ", "Lee Leader"):
            assert absent not in screen.text, absent
        assert _answer(leader, s, f"item{number}", value).status_code == 303
        progress = _progress(leader)
        assert progress is not None and progress.answers[f"item{number}"] == value
        assert progress.position == number and progress.leader_id == s.world.leader.id
        # The cookie carries a token only: no item, no answer, no person.
        cookie = _cookie(app, leader)
        assert set(cookie) <= {"_user_id", "_fresh", "_id", "csrf_token", PROGRESS_KEY}
        token = cookie[PROGRESS_KEY]
        assert isinstance(token, str) and "item" not in token
        assert "item" not in repr(cookie) and "answers" not in repr(cookie)
        assert _rows() == 1

    thanks = leader.get(s.question_url)
    assert "Thank you — please hand the phone back" in thanks.text and "<a " not in thanks.text
    finished = leader.post(f"{s.start_url}/finish")
    assert finished.status_code == 303
    assert finished.headers["Location"].endswith(f"/sessions/{s.session.id}")
    assert "Answers saved (7 of 7)." in leader.get(finished.headers["Location"]).text
    assert _progress(leader) is None and _rows() == 0
    assert PROGRESS_KEY not in _cookie(app, leader)

    (saved,) = _saved()
    assert saved.mode == "self_phone" and saved.complete
    assert saved.answers == {f"item{n}": v for n, v in enumerate(values, start=1)}
    assert saved.participant_id == s.consented.id and saved.session_id == s.session.id
    assert saved.answered_on == s.session.local_start.date()
    assert saved.entered_by_id == s.world.leader.id
    assert saved.measure_version_id == s.calm.id
    for record in caplog.records:
        message = record.getMessage()
        assert "AWR-001" not in message and "item1" not in message and "answers" not in message


def test_skipped_questions_make_a_partial_set(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    for n in range(1, CALM_ITEMS + 1):
        _answer(leader, s, f"item{n}", None if n in (2, 5) else 4)
    finished = leader.post(f"{s.start_url}/finish")
    assert "Answers saved (partial: 5 of 7)." in leader.get(finished.headers["Location"]).text
    (saved,) = _saved()
    assert not saved.complete
    assert saved.answers == {f"item{n}": 4 for n in (1, 3, 4, 6, 7)}


def test_an_ons4_question_offers_every_number_with_its_labelled_ends(
    app: Flask, setting: Setting
) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s, s.ons4)
    screen = leader.get(s.question_url).text
    assert "Question 1 of 4" in screen
    assert ">Overall, how satisfied are you with your life nowadays?</h1>" in screen
    assert screen.count('type="radio"') == 11 and "Not at all" in screen and "Completely" in screen
    assert "Office for National Statistics" in screen


def test_every_question_skipped_saves_nothing(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    for n in range(1, CALM_ITEMS + 1):
        _answer(leader, s, f"item{n}", None)
    finished = leader.post(f"{s.start_url}/finish")
    assert "nothing was saved" in leader.get(finished.headers["Location"]).text
    assert _saved() == [] and _progress(leader) is None and _rows() == 0


def test_refusals_at_the_start_are_clear_and_keep_nothing(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    no_consent = leader.post(
        s.start_url,
        data={"participant_id": s.world.participant.id, "measure_version_id": s.calm.id},
    )
    assert no_consent.status_code == 409
    assert f"{SECRET_CODE} has not consented to taking part in evaluation" in no_consent.text
    anonymous = _begin(leader, s, s.anonymous)
    assert anonymous.status_code == 400 and "not the latest version of a measure" in anonymous.text
    nobody = leader.post(s.start_url, data={"participant_id": "999999", "measure_version_id": 1})
    assert nobody.status_code == 400 and "registered present at this session" in nobody.text
    garbage = leader.post(s.start_url, data={"participant_id": "x", "measure_version_id": "y"})
    assert garbage.status_code == 400
    no_measure = leader.post(
        s.start_url, data={"participant_id": s.consented.id, "measure_version_id": "999999"}
    )
    assert no_measure.status_code == 400 and "Choose a measure" in no_measure.text
    huge = leader.post(
        s.start_url,
        data={"participant_id": s.consented.id, "measure_version_id": "9" * 30},
    )
    assert huge.status_code == 400 and "Choose a measure" in huge.text
    assert _progress(leader) is None and _rows() == 0

    future = f"/sessions/{s.world.future_session.id}/hand-over"
    assert leader.get(future).status_code == 409
    assert "has not happened yet" in leader.get(future).text
    assert "hand-over" not in leader.get(f"/sessions/{s.world.future_session.id}").text
    assert _saved() == []


@pytest.mark.parametrize("who", ["other_leader", "partner", "other_partner"])
def test_others_may_not_hand_the_phone_over(app: Flask, setting: Setting, who: str) -> None:
    s = setting
    client = _client(app, s.world.user_for(who))
    assert client.get(s.start_url).status_code == 403
    assert _begin(client, s).status_code == 403
    assert client.get(s.question_url).status_code == 403
    assert _answer(client, s, "item1", 3).status_code == 403
    assert client.post(f"{s.start_url}/finish").status_code == 403
    assert "hand-over" not in client.get(f"/sessions/{s.session.id}").text
    assert _progress(client) is None and _saved() == []


def test_staff_may_hand_their_phone_over(app: Flask, setting: Setting) -> None:
    s = setting
    manager = _client(app, s.world.manager)
    assert manager.get(s.start_url).status_code == 200
    assert _begin(manager, s).status_code == 303
    _answer(manager, s, "item1", 2)
    for n in range(2, CALM_ITEMS + 1):
        _answer(manager, s, f"item{n}", None)
    manager.post(f"{s.start_url}/finish")
    (saved,) = _saved()
    assert saved.entered_by_id == s.world.manager.id and saved.answers == {"item1": 2}


def test_bad_or_stale_answers_change_nothing(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    none = leader.post(s.question_url, data={"item": "item1", "action": "answer"})
    assert none.status_code == 400 and "Choose an answer, or skip this question." in none.text
    assert "AWR-001" not in none.text
    for bad in ("9", "0", "x", ""):
        refused = _answer(leader, s, "item1", bad)  # type: ignore[arg-type]
        assert refused.status_code == 400, bad
    _answer(leader, s, "item1", 3)
    # A screen left behind answers nothing: the current question comes back.
    stale = _answer(leader, s, "item1", 5)
    assert stale.status_code == 303
    assert _answer(leader, s, "item9", 5).status_code == 303
    progress = _progress(leader)
    assert progress is not None
    assert progress.answers == {"item1": 3} and progress.position == 1


def test_expired_or_tampered_progress_is_refused_and_dropped(
    app: Flask, setting: Setting, factory
) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    _answer(leader, s, "item1", 3)
    _change_row(leader, expires_at=utcnow() - timedelta(seconds=1))
    expired = leader.get(s.question_url)
    assert expired.status_code == 409 and "more than 30 minutes ago" in expired.text
    assert "<a " not in expired.text and "AWR-001" not in expired.text
    assert _progress(leader) is None and _rows() == 0
    assert PROGRESS_KEY not in _cookie(app, leader)
    assert leader.post(f"{s.start_url}/finish").status_code == 409

    other = factory.session(s.world.group, start_dt=s.session.start_dt - timedelta(days=7))
    db.session.commit()
    tampering = {
        "another session": {"session_id": other.id},
        "a text answer": {"answers": {"item1": "3"}},
        "a position past the end": {"position": 99},
        "another leader": {"leader_id": s.world.other_leader.id},
    }
    for what, values in tampering.items():
        _begin(leader, s)
        _change_row(leader, **values)
        assert leader.get(s.question_url).status_code == 409, what
        assert _answer(leader, s, "item1", 3).status_code == 409, what
        assert leader.post(f"{s.start_url}/finish").status_code == 409, what
        if what != "another session":  # kept for its own session's screens
            assert _rows() == 0, what
    # A token that opens nothing, or one that is not even a string, is dropped.
    for token in ("x" * 43, "short", 12345, ["a", "list"]):
        _begin(leader, s)
        with leader.session_transaction() as kept:
            kept[PROGRESS_KEY] = token
        assert leader.get(s.question_url).status_code == 409, token
        assert _token(leader) is None, token
        assert _answer(leader, s, "item1", 3).status_code == 409, token
    # Another leader's browser holding this one's token is refused and the answers dropped.
    _begin(leader, s)
    other_leader = _client(app, s.world.other_leader)
    with other_leader.session_transaction() as kept:
        kept[PROGRESS_KEY] = _token(leader)
    assert other_leader.get(s.question_url).status_code == 403  # not their group at all
    manager = _client(app, s.world.manager)
    with manager.session_transaction() as kept:
        kept[PROGRESS_KEY] = _token(leader)
    assert manager.get(s.question_url).status_code == 409
    assert _progress(leader) is None
    # A cookie that is not ours is no session at all: the sign-in page.
    leader.set_cookie("session", "not-a-signed-cookie")
    assert leader.get(s.question_url).status_code == 302
    assert _saved() == []


def test_stopping_asks_first_and_saves_nothing(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    _answer(leader, s, "item1", 3)
    _answer(leader, s, "item2", 4)
    confirm = leader.get(f"{s.start_url}/stop")
    assert confirm.status_code == 200 and "Stop and discard the answers?" in confirm.text
    assert _progress(leader) is not None  # asking changes nothing
    stopped = leader.post(f"{s.start_url}/stop")
    assert stopped.status_code == 303
    assert "Stopped: no answers were saved." in leader.get(stopped.headers["Location"]).text
    assert _progress(leader) is None and _rows() == 0
    assert leader.get(s.question_url).status_code == 409
    assert _saved() == []


def test_consent_withdrawn_meanwhile_stops_the_save(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    for n in range(1, CALM_ITEMS + 1):
        _answer(leader, s, f"item{n}", 2)
    person = db.session.get(Participant, s.consented.id)
    record_consent(person, "evaluation", False, to_local(utcnow()).date(), s.world.leader.id)
    db.session.commit()
    refused = leader.post(f"{s.start_url}/finish")
    assert refused.status_code == 400 and "has not consented" in refused.text
    assert "Nothing was saved." in refused.text
    assert _progress(leader) is None and _saved() == [] and _rows() == 0


def test_starting_again_leaves_one_hand_over_and_clears_expired_ones(
    app: Flask, setting: Setting
) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    _answer(leader, s, "item1", 3)
    first = _token(leader)
    _begin(leader, s)  # starting again abandons the first
    assert _token(leader) != first and _rows() == 1
    assert _progress(leader) == Kept({}, 0, s.consented.id, s.world.leader.id)

    # Left on a table: expired, then removed when anyone next starts a hand-over.
    _change_row(leader, expires_at=utcnow() - timedelta(minutes=1))
    manager = _client(app, s.world.manager)
    _begin(manager, s)
    assert _rows() == 1 and _progress(leader) is None and _progress(manager) is not None


def test_the_daily_retention_run_removes_expired_hand_overs(app: Flask, setting: Setting) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    _answer(leader, s, "item1", 3)
    assert apply_retention().hand_overs_expired == 0
    db.session.commit()
    assert _rows() == 1
    later = utcnow() + timedelta(seconds=PROGRESS_LIFETIME_SECONDS + 60)
    assert apply_retention(now=later).hand_overs_expired == 1
    db.session.commit()
    assert _rows() == 0
    expired = leader.get(s.question_url)
    assert expired.status_code == 409 and "Nothing was saved" in expired.text


def test_erasing_the_participant_removes_their_answers_in_progress(
    app: Flask, setting: Setting
) -> None:
    s = setting
    leader = _client(app, s.world.leader)
    _begin(leader, s)
    _answer(leader, s, "item1", 4)
    assert _rows() == 1
    erase_participant(db.session.get(Participant, s.consented.id))
    db.session.commit()
    assert _rows() == 0
    assert leader.get(s.question_url).status_code == 409
    assert leader.post(f"{s.start_url}/finish").status_code == 409
    assert _saved() == []
