"""Eight people submit the log form for the same session at the same moment, against real
gunicorn with four workers: every answer is the saved redirect or the conflict page, never a 500,
and what is stored is exactly the one submission that was told it was saved."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from readerapp.db import sqlite_read_only
from readerapp.extensions import db
from readerapp.sessions.models import ReadingSession

from .factories import PASSWORD, Factory
from .web_processes import Answer, Browser, Gunicorn
from .world import build_world

PEOPLE = 8
# The first round logs the session, the second edits the log: both paths under contention. The
# clash this guards against answered 500 to about one submission in three, so each round of
# eight would show it; more rounds repeated the second.
ROUNDS = 2
VERSION = re.compile(r'name="version" type="hidden" value="(\d+)"')


@pytest.fixture
def gunicorn(app: Flask, tmp_path: Path) -> Iterator[Gunicorn]:
    server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path / "gunicorn.log")
    try:
        server.wait_until_serving()
        yield server
    finally:
        server.stop()


def _log(token: str, version: str, person: int, round_: int, material: tuple[str, str]) -> dict:
    return {
        "csrf_token": token,
        "version": version,
        "status": "delivered",
        "participants": str(10 + person),
        "confirm": "y",  # more than the group's usual 6, knowingly
        "first_time": "1",
        "staff_carers": "1",
        "volunteers": "1",
        "materials-0-title": material[0],
        "materials-0-author": material[1],
        "materials-0-kind": "short_story",
        "notes": f"round {round_}: person {person}",
        "leader_id": "0",
    }


def test_simultaneous_log_submissions_answer_saved_or_conflict(
    factory: Factory, gunicorn: Gunicorn
) -> None:
    world = build_world(factory)
    managers = [factory.user("manager").email for _ in range(PEOPLE)]
    session_id = world.due_session.id
    material = (world.material.title, world.material.author)
    db.session.commit()

    browsers = [Browser(gunicorn.base) for _ in range(PEOPLE)]
    for browser, email in zip(browsers, managers, strict=True):
        browser.sign_in(email, PASSWORD)
    url = f"/sessions/{session_id}/log"

    for round_ in range(ROUNDS):
        forms = []
        for browser in browsers:
            token, page = browser.csrf_token(url)
            forms.append((token, VERSION.search(page).group(1)))
        assert len({version for _, version in forms}) == 1  # all read the same version

        start = threading.Barrier(PEOPLE)
        answers: list[Answer | None] = [None] * PEOPLE

        def submit(i: int, data: dict, start: threading.Barrier, answers: list) -> None:
            start.wait()
            answers[i] = browsers[i].request(url, data)

        threads = [
            threading.Thread(
                target=submit,
                args=(i, _log(*forms[i], i, round_, material), start, answers),
            )
            for i in range(PEOPLE)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert all(a is not None for a in answers), "a submission was never answered"

        statuses = [a.status for a in answers]  # type: ignore[union-attr]
        assert 500 not in statuses, f"round {round_}: {statuses}\n{gunicorn.log.read_text()}"
        saved = [i for i, a in enumerate(answers) if a.status == 302]  # type: ignore[union-attr]
        for i, answer in enumerate(answers):
            assert answer is not None
            if answer.status == 302:
                assert answer.headers["Location"].endswith(f"/sessions/{session_id}")
                continue
            assert answer.status == 409, f"round {round_}, person {i}: {answer.status}"
            assert "Someone else changed this session" in answer.text
            assert f"round {round_}: person {i}" in answer.text  # their words are kept
        assert len(saved) == 1, f"round {round_}: {statuses}"

        token = sqlite_read_only.set(True)
        db.session.rollback()
        stored = db.session.get(ReadingSession, session_id)
        winner = saved[0]
        assert stored.notes == f"round {round_}: person {winner}"
        assert stored.attendance.participants == 10 + winner
        db.session.rollback()
        sqlite_read_only.reset(token)
