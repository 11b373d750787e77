"""Names are for admins and the person's own group leaders only, shown on request, audited."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from readerapp.access import can_see_participant_name
from readerapp.extensions import db

from .audit_support import deferred_reads, events  # noqa: F401
from .factories import Factory
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world(factory: Factory) -> World:
    return build_world(factory)


def _get(client: FlaskClient, user, url: str) -> tuple[int, str]:
    sign_in_as(client, user)
    db.session.commit()
    response = client.get(url)
    return response.status_code, response.get_data(as_text=True)


def test_who_may_see_a_name(world: World, factory: Factory) -> None:
    p = world.participant
    assert can_see_participant_name(world.admin, p)
    assert can_see_participant_name(world.leader, p)  # leads a group the person attended
    for user in (world.manager, world.other_leader, world.partner, world.other_partner):
        assert not can_see_participant_name(user, p), user.role
    coleader = factory.user("reader_leader")
    world.group.coleaders.append(coleader)
    db.session.flush()
    assert can_see_participant_name(coleader, p)


def test_list_shows_codes_and_names_only_on_request(client: FlaskClient, world: World) -> None:
    status, page = _get(client, world.leader, "/participants")
    assert status == 200 and SECRET_CODE in page and SECRET_NAME not in page
    assert events(action="view_name") == []
    status, page = _get(client, world.leader, "/participants?names=y")
    assert status == 200 and SECRET_NAME in page
    (view,) = events(action="view_name")
    assert (view.entity_id, view.actor_id) == (str(world.participant.id), world.leader.id)


def test_managers_and_other_leaders_never_get_names(client: FlaskClient, world: World) -> None:
    status, page = _get(client, world.manager, "/participants?names=y")
    assert status == 200 and SECRET_CODE in page and SECRET_NAME not in page
    status, page = _get(client, world.other_leader, "/participants?names=y")
    assert status == 200 and SECRET_CODE not in page
    status, _ = _get(client, world.other_leader, f"/participants/{world.participant.id}")
    assert status == 403
    status, page = _get(client, world.manager, f"/participants/{world.participant.id}?show=name")
    assert status == 200 and SECRET_NAME not in page and SECRET_NOTE not in page
    assert events(action="view_name") == []


def test_detail_shows_name_and_notes_on_request_with_an_audit_entry(
    client: FlaskClient, world: World
) -> None:
    url = f"/participants/{world.participant.id}"
    status, page = _get(client, world.admin, url)
    assert status == 200 and SECRET_NAME not in page and "Show name and notes" in page
    assert "Willow Readers: 1 session" in page
    status, page = _get(client, world.admin, url + "?show=name")
    assert SECRET_NAME in page and SECRET_NOTE in page
    (view,) = events(action="view_name")
    assert view.actor_label == world.admin.email and view.ip_address == "127.0.0.1"


def test_filters_and_bad_input(client: FlaskClient, world: World, factory: Factory) -> None:
    factory.participant(world.host, code="ABC-1")
    db.session.commit()
    status, page = _get(client, world.admin, "/participants?code=abc")
    assert status == 200 and "ABC-1" in page and SECRET_CODE not in page
    status, page = _get(client, world.admin, f"/participants?organisation={world.host.id}")
    assert "ABC-1" in page and SECRET_CODE in page
    status, _ = _get(client, world.admin, "/participants?organisation=999999")
    assert status == 400
    status, _ = _get(client, world.admin, "/participants?page=-1")
    assert status == 400
    status, _ = _get(client, world.admin, "/participants/999999")
    assert status == 404
