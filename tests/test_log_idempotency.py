"""A log sent with an Idempotency-Key is written once, however often and however concurrently it
is sent: through the API (header) and the web form (hidden field). Real databases, real
concurrent requests."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.api import sessions as api_sessions
from readerapp.extensions import db
from readerapp.logbook.models import LogReceipt
from readerapp.sessions.models import ReadingSession

from .api_helpers import ApiWorld, build_api_world, etag_of, is_problem
from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .world import sign_in_as

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")

KEY = "3f6c1a52-9b7e-4c1d-8e55-0a7b2c9d4e11"


@pytest.fixture
def aw() -> ApiWorld:
    return build_api_world()


def _receipts() -> list[tuple[str, int]]:
    db.session.rollback()  # what the requests committed, not the test's own snapshot
    return list(db.session.execute(sa.select(LogReceipt.idempotency_key, LogReceipt.session_id)))


def _version(session_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(ReadingSession.version).where(ReadingSession.id == session_id)
    )


def test_a_log_sent_again_with_its_key_is_answered_without_a_second_write(
    client: FlaskClient, aw: ApiWorld
) -> None:
    session_id = aw.ids["due_session"]
    url = f"/api/v1/sessions/{session_id}/attendance"
    headers = aw.headers("leader", **{"Idempotency-Key": KEY})
    etag = etag_of(client, url, aw.headers("leader"))
    first = client.put(url, headers={**headers, "If-Match": etag}, json={"participants": 6})
    assert first.status_code == 200, first.get_data(as_text=True)
    assert "Idempotent-Replayed" not in first.headers
    written = _version(session_id)
    assert first.get_json()["session_version"] == written
    # The reply was lost: the same log comes again, with the ETag it was first sent with.
    again = client.put(url, headers={**headers, "If-Match": etag}, json={"participants": 6})
    assert again.status_code == 200, again.get_data(as_text=True)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["participants"] == 6
    assert again.get_json()["session_version"] == written
    assert _version(session_id) == written
    assert _receipts() == [(KEY, session_id)]
    # Without the key, the stale ETag is refused as ever.
    stale = client.put(
        url, headers={**aw.headers("leader"), "If-Match": etag}, json={"participants": 7}
    )
    assert stale.status_code == 412


def test_a_key_used_for_another_session_or_malformed_is_refused_and_nothing_written(
    client: FlaskClient, aw: ApiWorld
) -> None:
    due, past = aw.ids["due_session"], aw.ids["past_session"]
    url = f"/api/v1/sessions/{due}/attendance"
    leader = aw.headers("leader")
    sent = client.put(
        url,
        headers={**leader, "If-Match": etag_of(client, url, leader), "Idempotency-Key": KEY},
        json={"participants": 5},
    )
    assert sent.status_code == 200
    other = f"/api/v1/sessions/{past}/attendance"
    before = _version(past)
    reused = client.put(
        other,
        headers={**leader, "If-Match": etag_of(client, other, leader), "Idempotency-Key": KEY},
        json={"participants": 2},
    )
    assert reused.status_code == 409 and is_problem(reused)
    assert "another session" in reused.get_json()["detail"]
    for bad in ("has spaces in it", "x" * 101, "naïve"):
        refused = client.put(
            other,
            headers={**leader, "If-Match": etag_of(client, other, leader), "Idempotency-Key": bad},
            json={"participants": 2},
        )
        assert refused.status_code == 422 and is_problem(refused), bad
    assert _version(past) == before
    assert _receipts() == [(KEY, due)]


def test_two_requests_with_the_same_key_at_once_write_one_log(
    app: Flask, aw: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both requests have looked for the key and found none before either writes (a barrier
    holds them there): the unique key decides, so one writes and the other answers with its
    result."""
    session_id = aw.ids["due_session"]
    url = f"/api/v1/sessions/{session_id}/attendance"
    leader = aw.headers("leader")
    etag = etag_of(app.test_client(), url, leader)
    both_checked = threading.Barrier(2)
    real_begin_writing = api_sessions.begin_writing

    def begin_writing_together() -> None:
        both_checked.wait(timeout=10)
        real_begin_writing()

    monkeypatch.setattr(api_sessions, "begin_writing", begin_writing_together)
    answers: list[Any] = []

    def send() -> None:
        response = app.test_client().put(
            url,
            headers={**leader, "If-Match": etag, "Idempotency-Key": KEY},
            json={"participants": 5},
        )
        answers.append(response)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2
    assert [a.status_code for a in answers] == [200, 200], [
        a.get_data(as_text=True) for a in answers
    ]
    replayed = [a.headers.get("Idempotent-Replayed") for a in answers]
    assert sorted(replayed, key=str) == sorted([None, "true"], key=str)
    versions = {a.get_json()["session_version"] for a in answers}
    assert versions == {_version(session_id)}
    assert _receipts() == [(KEY, session_id)]


def test_the_openapi_document_describes_the_idempotency_key(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    put = spec["paths"]["/api/v1/sessions/{session_id}/attendance"]["put"]
    header = [p for p in put["parameters"] if p.get("name") == "Idempotency-Key"]
    assert header and header[0]["in"] == "header" and not header[0].get("required")
    assert "again" in header[0]["description"]
    assert "Idempotent-Replayed" in put["responses"]["200"]["headers"]


def test_the_web_form_sent_again_with_its_key_is_saved_once(
    client: FlaskClient,
    aw: ApiWorld,
    no_csrf: None,  # noqa: F811
) -> None:
    session_id = aw.ids["due_session"]
    sign_in_as(client, aw.world.leader)
    version = _version(session_id)
    form = {
        "version": str(version),
        "idempotency_key": KEY,
        "status": "delivered",
        "participants": "3",
        "first_time": "0",
        "staff_carers": "0",
        "volunteers": "0",
        "entered_late": "y",
        "leader_id": "0",
    }
    first = client.post(f"/sessions/{session_id}/log", data=form)
    assert first.status_code == 302, first.get_data(as_text=True)
    written = _version(session_id)
    again = client.post(f"/sessions/{session_id}/log", data=form, follow_redirects=True)
    assert again.status_code == 200
    assert "This log was saved already" in again.get_data(as_text=True)
    assert _version(session_id) == written
    assert _receipts() == [(KEY, session_id)]
    session = db.session.get(ReadingSession, session_id)
    assert session.entered_late_at is not None and session.attendance.participants == 3
