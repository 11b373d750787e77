"""What the server tells a device about working offline: which pages a leader's phone keeps,
that other roles' devices keep nothing, that offline mode can be switched off, and that
signing out or a deactivated account clears the device."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.timeutil import utcnow
from readerapp.users.operations import deactivate_user

from .factories import PASSWORD, Factory
from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .world import World, build_world, sign_in_as

CLEARED = '"cache", "storage"'


@pytest.fixture
def world() -> World:
    return build_world()


@pytest.fixture
def offline_off(app: Flask) -> Iterator[None]:
    app.config["OFFLINE_MODE"] = False
    yield
    app.config["OFFLINE_MODE"] = True


def test_a_leaders_phone_keeps_the_fortnight_either_side(
    client: FlaskClient,
    world: World,
    no_csrf: None,  # noqa: F811
) -> None:
    f = Factory()
    too_old = f.session(world.group, start_dt=utcnow() - timedelta(days=16))
    too_far = f.session(world.group, start_dt=utcnow() + timedelta(days=16))
    ids = {
        name: getattr(world, name).id
        for name in ("due_session", "future_session", "past_session", "other_session")
    }
    old_id, far_id = too_old.id, too_far.id
    signed_in = client.post("/sign-in", data={"email": world.leader.email, "password": PASSWORD})
    assert "Clear-Site-Data" not in signed_in.headers
    assert signed_in.status_code == 302
    answer = client.get("/offline/pages.json")
    assert answer.status_code == 200
    body = answer.get_json()
    pages = body["pages"]
    assert pages[0] == "/sessions" and body["csrf_token"]
    for name in ("due_session", "future_session", "past_session"):
        assert f"/sessions/{ids[name]}/log" in pages and f"/sessions/{ids[name]}" in pages
    # Another leader's group, and sessions outside the fortnight either side, are not kept.
    for session_id in (ids["other_session"], old_id, far_id):
        assert f"/sessions/{session_id}/log" not in pages
    assert "/static/js/offline-queue.js" in pages and "/manifest.webmanifest" in pages
    page = client.get("/sessions").get_data(as_text=True)
    assert 'data-offline="on"' in page and "data-offline-queue" in page


@pytest.mark.parametrize("role", ["admin", "manager", "partner"])
def test_other_roles_devices_keep_nothing(
    client: FlaskClient,
    world: World,
    role: str,
    no_csrf: None,  # noqa: F811
) -> None:
    user = getattr(world, role)
    # Signing in clears whatever a leader's sign-in left on a shared phone, at the password
    # step already (admins and managers then go on to their second factor).
    signed_in = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert signed_in.status_code == 302 and signed_in.headers["Clear-Site-Data"] == CLEARED
    sign_in_as(client, user)
    assert client.get("/offline/pages.json").status_code == 403
    page = client.get("/sessions").get_data(as_text=True)
    assert 'data-offline=""' in page and "data-offline-queue" not in page
    assert "offline.js" not in page


def test_offline_mode_switched_off_keeps_no_page(
    client: FlaskClient, world: World, offline_off: None
) -> None:
    sign_in_as(client, world.leader)
    body = client.get("/offline/pages.json").get_json()
    # The device still gets a form token, to send what it queued before, then forgets it all.
    assert body["pages"] == [] and body["csrf_token"]
    assert 'data-offline="off"' in client.get("/sessions").get_data(as_text=True)


def test_signing_out_clears_the_device(
    client: FlaskClient,
    world: World,
    no_csrf: None,  # noqa: F811
) -> None:
    sign_in_as(client, world.leader)
    assert "Clear-Site-Data" not in client.get("/sessions").headers
    answer = client.post("/sign-out")
    assert answer.status_code == 302 and answer.headers["Clear-Site-Data"] == CLEARED


def test_a_deactivated_accounts_next_contact_clears_its_device(
    client: FlaskClient, world: World
) -> None:
    sign_in_as(client, world.leader)
    assert client.get("/sessions").status_code == 200
    deactivate_user(world.leader, world.admin)
    db.session.commit()
    answer = client.get("/sessions")
    assert answer.status_code == 302 and answer.headers["Clear-Site-Data"] == CLEARED
    # A signed-out visitor's device is left alone: a queue waits for the next sign-in.
    sign_in_as(client, None)
    assert "Clear-Site-Data" not in client.get("/sign-in").headers


def test_the_manifest_and_service_worker_are_served_from_the_root(client: FlaskClient) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.get_json()
    assert body["start_url"] == "/sessions" and body["scope"] == "/"
    for icon in body["icons"]:
        image = client.get(icon["src"])
        assert image.status_code == 200
        if icon["type"] == "image/png":
            assert image.data.startswith(b"\x89PNG\r\n\x1a\n")
    worker = client.get("/sw.js")
    assert worker.mimetype == "text/javascript" and worker.headers["Cache-Control"] == "no-cache"
    # Same origin only: the worker loads its one script from this site.
    assert 'importScripts("/static/js/offline-queue.js")' in worker.get_data(as_text=True)
    policy = worker.headers["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy
