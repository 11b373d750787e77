"""The phone handed to a participant, on a 360 px phone in a real Chromium: each screen shows the
current question and nothing else (no header, menu, footer or link, no code), nothing is wider
than the screen, every answer is a tap target at least 48 px tall, and answering by taps then
handing back saves the set; stopping saves nothing. Screenshots go to test-artifacts/.

One browser for the module. Skipped on PostgreSQL runs (the pages are the same) and, with a
plain message, when no Chromium is installed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.outcomes.answers import record_consent
from readerapp.outcomes.models import AnswerSet
from readerapp.outcomes.operations import load_builtin_measures, load_measure_file
from readerapp.timeutil import to_local

from .browser_support import launched_chromium, served, sign_in
from .factories import Factory
from .test_outcomes_measures import calm_file
from .world import SECRET_CODE, SECRET_NAME, build_world

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("reads_do_not_lock"),
    pytest.mark.database_neutral,
]

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}
MIN_TAP_PX = 48
CODE = "AWR-001"
# Anything that would lead away from the question, or show who is answering.
AWAY = "a, nav, header, .site-header, .site-footer, .menu"


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    with launched_chromium() as browser:
        yield browser


@pytest.fixture
def base_url(app: Flask) -> Iterator[str]:
    with served(app) as url:
        yield url


@dataclass
class Ready:
    email: str
    session_id: int
    participant_id: int


@pytest.fixture
def ready(tmp_path: Path) -> Ready:
    world = build_world()
    factory = Factory()
    load_builtin_measures()
    load_measure_file(calm_file(tmp_path))
    person = factory.participant(world.host, code=CODE)
    factory.register(world.past_session, person)
    day = to_local(world.past_session.start_dt).date()
    record_consent(person, "evaluation", True, day, world.leader.id)
    db.session.commit()
    found = Ready(world.leader.email, world.past_session.id, person.id)
    db.session.rollback()
    return found


def _phone_page(chromium: Any, base_url: str, ready: Ready) -> tuple[Any, Any]:
    context = chromium.new_context(**PHONE)
    page = context.new_page()
    sign_in(page, base_url, ready.email)
    return context, page


def _hand_over(page: Any, base_url: str, ready: Ready, measure: str) -> None:
    page.goto(f"{base_url}/sessions/{ready.session_id}")
    page.get_by_role("link", name="Hand the phone to a participant").tap()
    page.get_by_label(CODE).check()
    page.get_by_label(measure).check()
    page.get_by_role("button", name="Hand the phone over").tap()
    page.wait_for_url(f"**/sessions/{ready.session_id}/hand-over/question")


def _check_only_the_question(page: Any, number: int, total: int) -> None:
    assert page.locator(AWAY).count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    body = page.locator("body").inner_text()
    for absent in (CODE, SECRET_CODE, SECRET_NAME, "readerapp"):
        assert absent not in body, absent
    assert page.get_by_text(f"Question {number} of {total}").is_visible()
    # The question itself, as its fieldset's legend, gets the focus on each new screen.
    assert page.evaluate("document.activeElement.id") == "question-text"
    assert page.get_by_role("group").count() == 1
    for target in (
        *page.locator(".option").all(),
        page.get_by_role("button", name="Next"),
        page.get_by_role("button", name="Skip this question"),
    ):
        box = target.bounding_box()
        assert box is not None and box["height"] >= MIN_TAP_PX and box["width"] <= 360


def test_answering_by_taps_shows_only_the_question_and_saves_the_set(
    chromium: Any, base_url: str, artifacts_dir: Path, ready: Ready
) -> None:
    context, page = _phone_page(chromium, base_url, ready)
    try:
        _hand_over(page, base_url, ready, "Calm scale (7 items)")
        chosen = {1: "Often", 2: "Rarely", 4: "All of the time", 5: "Some of the time"}
        chosen |= {6: "None of the time", 7: "Often"}
        for number in range(1, 8):
            _check_only_the_question(page, number, 7)
            if number == 1:
                page.screenshot(path=artifacts_dir / "phone-hand-over-question.png", full_page=True)
            # Each screen is a form POST: wait for the next page, not the one being left.
            if number in chosen:
                page.get_by_label(chosen[number]).tap()
                with page.expect_navigation():
                    page.get_by_role("button", name="Next").tap()
            else:
                with page.expect_navigation():
                    page.get_by_role("button", name="Skip this question").tap()
        heading = page.get_by_role("heading", name="Thank you — please hand the phone back")
        heading.wait_for()
        assert page.locator(AWAY).count() == 0
        assert page.get_by_text("Calm scale © Example University").is_visible()
        page.screenshot(path=artifacts_dir / "phone-hand-over-thanks.png", full_page=True)
        page.get_by_role("button", name="Leader: save the answers").tap()
        page.wait_for_url(f"**/sessions/{ready.session_id}")
        assert page.get_by_text("Answers saved (partial: 6 of 7).").is_visible()
    finally:
        context.close()
    db.session.rollback()
    (saved,) = db.session.scalars(sa.select(AnswerSet)).all()
    assert saved.mode == "self_phone" and saved.participant_id == ready.participant_id
    assert saved.answers == {
        "item1": 4,
        "item2": 2,
        "item4": 5,
        "item5": 3,
        "item6": 1,
        "item7": 4,
    }


def test_an_eleven_point_question_fits_and_stopping_saves_nothing(
    chromium: Any, base_url: str, artifacts_dir: Path, ready: Ready
) -> None:
    context, page = _phone_page(chromium, base_url, ready)
    try:
        _hand_over(page, base_url, ready, "ONS personal wellbeing (ONS4)")
        _check_only_the_question(page, 1, 4)
        assert page.locator(".option").count() == 11
        assert page.get_by_text("Office for National Statistics").is_visible()
        page.screenshot(path=artifacts_dir / "phone-hand-over-ons4.png", full_page=True)
        page.get_by_label("7", exact=True).tap()
        page.get_by_role("button", name="Next").tap()
        page.get_by_text("Question 2 of 4").wait_for()
        page.get_by_role("button", name="Stop").tap()
        page.get_by_role("heading", name="Stop and discard the answers?").wait_for()
        page.get_by_role("button", name="Yes, stop and discard").tap()
        page.wait_for_url(f"**/sessions/{ready.session_id}")
        assert page.get_by_text("Stopped: no answers were saved.").is_visible()
    finally:
        context.close()
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(AnswerSet.id))) == 0
