"""The feed over HTTP: content type, validators, conditional requests, tokens that stop working."""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest.mock import patch

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.http import http_date, parse_date

from readerapp.db import sqlite_read_only
from readerapp.extensions import db
from readerapp.feeds.models import FeedEventCache, FeedToken
from readerapp.feeds.operations import create_token, revoke_token, rotate_token
from readerapp.models import ReadingMaterial, ReadingSession
from readerapp.timeutil import utcnow

from .factories import Factory
from .feed_checks import (
    commit_before_requests,  # noqa: F401  (a fixture)
    fetch,
    new_feed,
)
from .world import build_world

pytestmark = pytest.mark.usefixtures("commit_before_requests")


def test_headers_and_byte_identical_output(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("organisation", w.host)
    first = fetch(client, path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert first.headers["Cache-Control"] == "private, max-age=300"
    assert "Content-Encoding" not in first.headers
    etag = first.headers["ETag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert parse_date(first.headers["Last-Modified"]) is not None
    second = fetch(client, path, headers={"Accept-Encoding": "gzip"})
    assert second.data == first.data
    assert second.headers["ETag"] == etag
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert "Content-Encoding" not in second.headers


def test_if_none_match_gives_304(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    etag = first.headers["ETag"]
    response = fetch(client, path, headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.data == b""
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == "private, max-age=300"
    listed = fetch(client, path, headers={"If-None-Match": f'"other", {etag}'})
    assert listed.status_code == 304
    assert fetch(client, path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_if_none_match_takes_precedence_over_if_modified_since(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    response = fetch(
        client,
        path,
        headers={
            "If-None-Match": '"something-else"',
            "If-Modified-Since": first.headers["Last-Modified"],
        },
    )
    assert response.status_code == 200


def test_if_modified_since(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    last_modified = first.headers["Last-Modified"]
    assert fetch(client, path, headers={"If-Modified-Since": last_modified}).status_code == 304
    # A later date (still in the past) is also "not modified since".
    later = http_date(parse_date(last_modified) + timedelta(seconds=5))
    with patch("readerapp.feeds.serve.utcnow", return_value=utcnow() + timedelta(minutes=1)):
        assert fetch(client, path, headers={"If-Modified-Since": later}).status_code == 304
    earlier = http_date(parse_date(last_modified) - timedelta(seconds=1))
    assert fetch(client, path, headers={"If-Modified-Since": earlier}).status_code == 200
    # Long ago, malformed, or in the future: the full feed.
    past = "Sat, 01 Jan 2000 00:00:00 GMT"
    assert fetch(client, path, headers={"If-Modified-Since": past}).status_code == 200
    assert fetch(client, path, headers={"If-Modified-Since": "yesterday"}).status_code == 200
    future = http_date(utcnow() + timedelta(days=365))
    assert fetch(client, path, headers={"If-Modified-Since": future}).status_code == 200


def test_a_change_gives_a_new_etag_and_a_later_last_modified(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    w.future_session.duration_minutes = 60
    w.future_session.sequence += 1
    db.session.commit()
    # The client's validators are stale now: both conditional paths answer 200.
    by_etag = fetch(client, path, headers={"If-None-Match": first.headers["ETag"]})
    assert by_etag.status_code == 200
    assert by_etag.headers["ETag"] != first.headers["ETag"]
    by_date = fetch(client, path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert by_date.status_code == 200
    assert parse_date(by_date.headers["Last-Modified"]) > parse_date(first.headers["Last-Modified"])


def test_last_modified_moves_forward_when_a_session_is_deleted(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    db.session.delete(w.future_session)
    db.session.commit()
    second = fetch(client, path, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert second.status_code == 200
    assert b"session-%d@" % w.due_session.id in second.data
    assert second.headers["ETag"] != first.headers["ETag"]
    assert parse_date(second.headers["Last-Modified"]) > parse_date(first.headers["Last-Modified"])
    # And it stays put while nothing changes.
    third = fetch(client, path)
    assert third.headers["Last-Modified"] == second.headers["Last-Modified"]
    assert third.data == second.data


def test_last_modified_never_moves_backwards_when_newer_rows_vanish(
    client: FlaskClient, factory: Factory
) -> None:
    w = build_world()
    # The newest change in the feed is this session's; deleting it leaves only older rows.
    newest = factory.session(w.group, start_dt=utcnow() + timedelta(days=10))
    newest.updated_at = utcnow() + timedelta(hours=2)
    db.session.commit()
    path = new_feed("group", w.group)
    before = parse_date(fetch(client, path).headers["Last-Modified"])
    db.session.delete(newest)
    db.session.commit()
    after = parse_date(fetch(client, path).headers["Last-Modified"])
    assert after > before


def test_unchanged_data_keeps_etag_across_a_cleared_event_cache(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("organisation", w.host)
    first = fetch(client, path)
    db.session.execute(sa.delete(FeedEventCache))
    db.session.commit()
    second = fetch(client, path)
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FeedEventCache)) == 3


def test_state_is_recorded_on_the_token(client: FlaskClient) -> None:
    w = build_world()
    token, raw = create_token("group", w.group)
    db.session.commit()
    response = fetch(client, f"/feeds/{raw}.ics")
    db.session.refresh(token)
    assert token.served_etag == response.headers["ETag"]
    assert token.served_state
    assert http_date(token.served_last_modified) == response.headers["Last-Modified"]


def test_revoked_token_answers_404_at_once(client: FlaskClient) -> None:
    w = build_world()
    token, raw = create_token("organisation", w.host)
    db.session.commit()
    path = f"/feeds/{raw}.ics"
    assert fetch(client, path).status_code == 200
    revoke_token(token)
    db.session.commit()
    response = fetch(client, path)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/plain")
    assert fetch(client, path, headers={"If-None-Match": "*"}).status_code == 404


def test_rotation_replaces_the_address(client: FlaskClient) -> None:
    w = build_world()
    token, raw = create_token("organisation", w.host, label="Ward manager")
    db.session.commit()
    old_body = fetch(client, f"/feeds/{raw}.ics").data
    new, new_raw = rotate_token(token)
    db.session.commit()
    assert new_raw != raw
    assert new.scope == "organisation" and new.organisation_id == w.host.id
    assert new.label == "Ward manager"
    assert fetch(client, f"/feeds/{raw}.ics").status_code == 404
    response = fetch(client, f"/feeds/{new_raw}.ics")
    assert response.status_code == 200
    assert response.data == old_body  # same scope, same events, same UIDs


def test_unknown_and_malformed_tokens_answer_404(client: FlaskClient) -> None:
    build_world()
    assert fetch(client, "/feeds/" + "A" * 43 + ".ics").status_code == 404
    assert fetch(client, "/feeds/short.ics").status_code == 404
    assert fetch(client, "/feeds/%27%20OR%201=1.ics").status_code == 404


def test_token_is_stored_hashed_with_256_bits(client: FlaskClient) -> None:
    w = build_world()
    token, raw = create_token("group", w.group)
    db.session.commit()
    import hashlib

    assert len(raw) >= 43  # 32 random bytes, URL-safe base64
    assert token.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    stored = db.session.execute(sa.select(FeedToken.token_hash, FeedToken.label)).all()
    assert all(raw not in str(row) for row in stored)


def test_a_deactivated_leaders_feed_stops(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("leader", w.leader)
    assert fetch(client, path).status_code == 200
    w.leader.active = False
    db.session.commit()
    assert fetch(client, path).status_code == 404


def test_a_failed_record_still_serves_the_feed(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    first = fetch(client, path)
    w.future_session.sequence += 1
    db.session.commit()
    with patch(
        "readerapp.feeds.serve.record_served",
        side_effect=sa.exc.OperationalError("UPDATE", {}, Exception("database is locked")),
    ):
        response = fetch(client, path)
    assert response.status_code == 200
    assert parse_date(response.headers["Last-Modified"]) > parse_date(
        first.headers["Last-Modified"]
    )
    # Recorded on the next request instead.
    again = fetch(client, path, headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_head_request(client: FlaskClient) -> None:
    w = build_world()
    path = new_feed("group", w.group)
    db.session.commit()
    response = client.head(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert response.headers["ETag"]


def test_concurrent_requests_while_data_changes(app: Flask) -> None:
    """Feeds served from several threads while sessions change: no "database is locked"."""
    w = build_world()
    paths = [new_feed("organisation", w.host), new_feed("group", w.group)]
    session_id = w.future_session.id
    db.session.commit()
    statuses: list[int] = []
    errors: list[BaseException] = []

    def poll() -> None:
        client = app.test_client()
        try:
            for n in range(6):
                response = client.get(paths[n % 2])
                statuses.append(response.status_code)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=poll) for _ in range(4)]
    # The test's own writes begin IMMEDIATE, as a write request's do (an earlier test may have
    # left this context marked read-only).
    writing = sqlite_read_only.set(False)
    try:
        for thread in threads:
            thread.start()
        for minutes in (60, 75, 90):
            session = db.session.get(ReadingSession, session_id)
            session.duration_minutes = minutes
            session.sequence += 1
            db.session.commit()
    finally:
        sqlite_read_only.reset(writing)
        for thread in threads:
            thread.join()
    assert not errors
    assert statuses and set(statuses) == {200}
    final = fetch(app.test_client(), paths[1])
    assert b"SEQUENCE:3" in final.data


def _edit_group(w) -> str:
    w.group.name = "Willow Ward Readers"
    return "Willow Ward Readers"


def _edit_venue(w) -> str:
    w.venue.name = "Northmoor General Hospital"
    return "Northmoor General Hospital"


def _edit_lead_leader(w) -> str:
    w.leader.display_name = "Leonora Leader"
    return "Leonora"


def _edit_substitute(w) -> str:
    w.other_leader.display_name = "Octavia Otherleader"
    return "Octavia"


def _edit_material(w) -> str:
    w.material.title = "The Selfish Giant"
    return "The Selfish Giant"


def _swap_material(w) -> str:
    # Only the association table changes: the session's updated_at must still move.
    spare = db.session.scalar(sa.select(ReadingMaterial).filter_by(title="Invictus"))
    w.past_session.materials = [spare]
    return "Invictus"


@pytest.mark.parametrize(
    "edit",
    [_edit_group, _edit_venue, _edit_lead_leader, _edit_substitute, _edit_material, _swap_material],
)
def test_an_edit_to_anything_an_event_shows_ends_the_304s(client: FlaskClient, edit) -> None:
    w = build_world()
    w.future_session.leader_id = w.other_leader.id  # a substitute leads this one
    db.session.add(ReadingMaterial(title="Invictus", author="W. E. Henley", kind="poem"))
    path = new_feed("group", w.group)
    first = fetch(client, path)
    assert fetch(client, path, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    shown = edit(w)
    db.session.commit()
    response = fetch(client, path, headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 200
    assert shown in response.data.replace(b"\r\n ", b"").decode()


def test_a_new_text_for_an_episode_ends_the_stations_304s(client: FlaskClient) -> None:
    w = build_world()
    spare = ReadingMaterial(title="Invictus", author="W. E. Henley", kind="poem")
    db.session.add(spare)
    path = new_feed("station", w.station)
    first = fetch(client, path)
    w.episode.materials = [spare]  # only episode_material changes
    db.session.commit()
    response = fetch(client, path, headers={"If-None-Match": first.headers["ETag"]})
    assert response.status_code == 200
    assert "Invictus" in response.data.replace(b"\r\n ", b"").decode()
