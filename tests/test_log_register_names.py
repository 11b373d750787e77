"""Names on the log form's tick-list register: codes only by default; names beside the codes on
request ("Show names"), only for those who may see them and only where the organisation keeps
names, each name shown recorded in the audit trail; what was typed stays and nothing is saved."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from readerapp.attendance.models import Participant
from readerapp.extensions import db
from readerapp.organisations.models import Organisation
from readerapp.sessions.models import ReadingSession

from .audit_support import deferred_reads, events, live_logs  # noqa: F401
from .factories import Factory
from .world import SECRET_CODE, SECRET_NAME, World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("deferred_reads", "no_csrf")

SHOW_NAMES = 'name="show_names"'
TYPED_NOTE = "Typed before asking for names"


@pytest.fixture
def world(factory: Factory) -> World:
    return build_world(factory)


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def _typed(version: str, **more: str) -> dict[str, str]:
    """A half-filled log, as a leader would have it when asking for names."""
    return {
        "version": version,
        "form_token": "typed-token",
        "status": "delivered",
        "participants": "7",
        "notes": TYPED_NOTE,
        "present": SECRET_CODE,
        "new_codes": "",
        "leader_id": "0",
        **more,
    }


def _open(client: FlaskClient, url: str) -> tuple[str, str]:
    page = client.get(url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
    assert version is not None
    return html, version.group(1)


def _session(session_id: int) -> ReadingSession:
    db.session.rollback()  # a fresh snapshot: requests commit on their own connections
    session = db.session.get(ReadingSession, session_id)
    assert session is not None
    return session


@pytest.mark.usefixtures("live_logs")
def test_codes_by_default_names_on_request_audited_with_what_was_typed_kept(
    client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid, pid = world.due_session.id, world.participant.id
    url = f"/sessions/{sid}/log"
    sign_in_as(client, world.leader)
    html, version = _open(client, url)
    assert SECRET_CODE in html and SECRET_NAME not in html
    assert SHOW_NAMES in html
    # Enter in a field still saves: the form's first submit button is not "Show names".
    first_button = html.index("<button", html.index('class="stack log-form"'))
    assert first_button < html.index(SHOW_NAMES)
    assert "show_names" not in html[first_button : html.index(">", first_button)]
    assert events(action="view_name") == []

    shown = client.post(url, data=_typed(version, show_names="1"))
    assert shown.status_code == 200
    html = shown.get_data(as_text=True)
    assert SECRET_NAME in html and SHOW_NAMES not in html
    # What was typed is all there, and nothing was saved.
    assert TYPED_NOTE in html and 'value="7"' in html
    assert re.search(rf'value="{SECRET_CODE}" checked', html)
    assert 'value="typed-token"' in html
    session = _session(sid)
    assert (session.status, session.version, session.notes) == ("scheduled", int(version), None)
    (seen,) = events(action="view_name")
    assert (seen.entity_type, seen.entity_id, seen.actor_id) == (
        "participant",
        str(pid),
        world.leader.id,
    )
    assert seen.changes == {"page": "log form"}

    # Saving afterwards is an ordinary save: no name asked for, none shown, none recorded.
    data = _typed(version, first_time="0", staff_carers="0", volunteers="0", confirm="y")
    saved = client.post(url, data=data)
    assert saved.status_code == 302, re.findall(r"error-message[^>]*>([^<]*)", saved.text)
    assert _session(sid).status == "delivered"
    assert len(events(action="view_name")) == 1
    for line in caplog.records:
        assert SECRET_NAME not in line.getMessage()


def test_an_admin_is_offered_names_a_manager_is_not(client: FlaskClient, world: World) -> None:
    sid = world.due_session.id
    url = f"/sessions/{sid}/log"
    sign_in_as(client, world.admin)
    html, version = _open(client, url)
    assert SHOW_NAMES in html and SECRET_NAME not in html
    shown = client.post(url, data=_typed(version, show_names="1"))
    assert shown.status_code == 200 and SECRET_NAME in shown.get_data(as_text=True)
    assert [e.actor_id for e in events(action="view_name")] == [world.admin.id]

    # A manager records names but never sees one: no button, and asking anyway shows codes only.
    sign_in_as(client, world.manager)
    html, version = _open(client, url)
    assert SHOW_NAMES not in html and SECRET_NAME not in html
    asked = client.post(url, data=_typed(version, show_names="1"))
    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and SECRET_NAME not in html and TYPED_NOTE in html
    assert len(events(action="view_name")) == 1
    assert _session(sid).status == "scheduled"


def test_not_for_another_groups_leader_nor_a_partner(client: FlaskClient, world: World) -> None:
    url = f"/sessions/{world.due_session.id}/log"
    for user in (world.other_leader, world.partner):
        sign_in_as(client, user)
        assert client.get(url).status_code == 403
        refused = client.post(url, data=_typed("1", show_names="1"))
        assert refused.status_code == 403
        assert SECRET_NAME not in refused.get_data(as_text=True)
    assert events(action="view_name") == []


def test_no_names_where_the_organisation_keeps_codes_only_or_nobody_has_one(
    client: FlaskClient, world: World
) -> None:
    sid = world.due_session.id
    url = f"/sessions/{sid}/log"
    sign_in_as(client, world.leader)
    # Switched off (the setting refuses it while names are held; here set underneath it).
    db.session.get(Organisation, world.host.id).keep_names = False
    db.session.commit()
    html, version = _open(client, url)
    assert SHOW_NAMES not in html
    asked = client.post(url, data=_typed(version, show_names="1"))
    assert asked.status_code == 200 and SECRET_NAME not in asked.get_data(as_text=True)
    assert events(action="view_name") == []

    db.session.get(Organisation, world.host.id).keep_names = True
    db.session.get(Participant, world.participant.id).display_name = None
    db.session.commit()
    html, _ = _open(client, url)
    assert SHOW_NAMES not in html
    assert _session(sid).status == "scheduled"
