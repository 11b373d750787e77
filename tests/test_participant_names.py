"""Names where the charity keeps them: who may record a participant's first name and note, where
the organisation's "Keep names" setting refuses them (web, API, CSV import), and that neither
the audit trail nor the logs ever carry the name."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.access import can_see_participant_name, may_record_participant_name
from readerapp.api.tokens import create_token
from readerapp.attendance.limits import PARTICIPANT_NAME
from readerapp.attendance.models import Participant
from readerapp.attendance.operations import NameAndNote, record_name_and_note
from readerapp.errors import FieldError
from readerapp.extensions import db
from readerapp.logbook.imports import ImportRejected, import_attendance
from readerapp.organisations.models import Organisation
from readerapp.organisations.operations import OrganisationData, save_organisation
from readerapp.privacy.operations import erase_participant
from readerapp.sessions.errors import SessionError
from readerapp.timeutil import utcnow

from .audit_support import all_changes_text, deferred_reads, events, live_logs  # noqa: F401
from .factories import Factory
from .world import SECRET_NAME, World, build_world, sign_in_as

NEW_NAME = "Bernadette"
NEW_NOTE = "Prefers poems read twice"


@pytest.fixture
def world(factory: Factory) -> World:
    return build_world(factory)


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def _participant(participant_id: int) -> Participant:
    db.session.rollback()  # a fresh snapshot: requests commit on their own connections
    person = db.session.get(Participant, participant_id)
    assert person is not None
    return person


def _codes_only(world: World) -> Participant:
    """A participant of the other host, which keeps codes only, in other_leader's group."""
    person = Factory().participant(world.other_host, code="HMP-001")
    Factory().register(world.other_session, person)
    world.other_session.status = "delivered"
    db.session.commit()
    return person


# --- Who may record a name -----------------------------------------------------------------------


def test_who_may_record_a_name(world: World, factory: Factory) -> None:
    p = world.participant
    for user in (world.admin, world.manager, world.leader):
        assert may_record_participant_name(user, p), user.role
    for user in (world.other_leader, world.partner, world.other_partner):
        assert not may_record_participant_name(user, p), user.role
    coleader = factory.user("reader_leader")
    world.group.coleaders.append(coleader)
    db.session.flush()
    assert may_record_participant_name(coleader, p)
    # Writing is not reading: a manager records names but never sees one.
    assert not can_see_participant_name(world.manager, p)


# --- The operation ------------------------------------------------------------------------------


def test_the_operation_sets_corrects_and_removes(world: World) -> None:
    p = world.participant
    record_name_and_note(p, NameAndNote(display_name="  Ann   Marie ", notes=" Likes Hardy "))
    assert (p.display_name, p.notes) == ("Ann Marie", "Likes Hardy")
    record_name_and_note(p, NameAndNote(notes="Likes Larkin"))  # the name is left as it is
    assert (p.display_name, p.notes) == ("Ann Marie", "Likes Larkin")
    record_name_and_note(p, NameAndNote(display_name="", notes=""))
    assert (p.display_name, p.notes) == (None, None)


def test_the_operation_refuses_where_names_are_off_too_long_or_erased(world: World) -> None:
    person = _codes_only(world)
    with pytest.raises(SessionError, match="codes only") as refused:
        record_name_and_note(person, NameAndNote(display_name=NEW_NAME))
    assert refused.value.field == "display_name"
    with pytest.raises(SessionError, match="codes only"):
        record_name_and_note(person, NameAndNote(notes=NEW_NOTE))
    record_name_and_note(person, NameAndNote(display_name="", notes=""))  # removing is fine
    p = world.participant
    with pytest.raises(SessionError, match=str(PARTICIPANT_NAME)):
        record_name_and_note(p, NameAndNote(display_name="N" * (PARTICIPANT_NAME + 1)))
    erase_participant(p)
    with pytest.raises(SessionError, match="erased"):
        record_name_and_note(p, NameAndNote(display_name=NEW_NAME))


def test_names_cannot_be_switched_off_while_some_are_held(world: World) -> None:
    host = world.host

    def data(keep: bool) -> OrganisationData:
        return OrganisationData(name=host.name, kind=host.kind, keep_names=keep)

    with pytest.raises(FieldError, match="still have a name") as refused:
        save_organisation(host, data(False))
    assert refused.value.field == "keep_names"
    record_name_and_note(world.participant, NameAndNote(display_name="", notes=""))
    save_organisation(host, data(False))
    assert host.keep_names is False
    save_organisation(host, data(True))
    assert host.keep_names is True


# --- Web ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("deferred_reads", "no_csrf", "live_logs")
def test_a_leader_corrects_a_name_audited_without_the_name(
    client: FlaskClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pid = world.participant.id
    url = f"/participants/{pid}/name"
    sign_in_as(client, world.leader)
    page = client.get(url)
    # Opening the form shows the name held to one who may see it: recorded like any showing.
    assert page.status_code == 200 and SECRET_NAME in page.get_data(as_text=True)
    assert [e.entity_id for e in events(action="view_name")] == [str(pid)]
    listed = client.get("/participants").get_data(as_text=True)
    assert f'href="{url}"' in listed  # the roster links to the form
    saved = client.post(url, data={"display_name": NEW_NAME, "notes": NEW_NOTE})
    assert saved.status_code == 302
    person = _participant(pid)
    assert (person.display_name, person.notes) == (NEW_NAME, NEW_NOTE)
    (change,) = [e for e in events(action="update", entity_type="participant")]
    assert change.actor_id == world.leader.id
    assert change.changes == {
        "display_name": ["[hidden]", "[hidden]"],
        "notes": ["[hidden]", "[hidden]"],
    }
    stored = all_changes_text()
    assert NEW_NAME not in stored and NEW_NOTE not in stored and SECRET_NAME not in stored
    for line in caplog.records:
        assert NEW_NAME not in line.getMessage() and NEW_NOTE not in line.getMessage()


@pytest.mark.usefixtures("deferred_reads", "no_csrf")
def test_a_manager_records_a_name_without_ever_seeing_one(
    client: FlaskClient, world: World
) -> None:
    pid = world.participant.id
    url = f"/participants/{pid}/name"
    sign_in_as(client, world.manager)
    page = client.get(url).get_data(as_text=True)
    assert SECRET_NAME not in page and "Remove the name and note held" in page
    assert events(action="view_name") == []
    # A blank field keeps what is held.
    assert client.post(url, data={"notes": NEW_NOTE}).status_code == 302
    person = _participant(pid)
    assert (person.display_name, person.notes) == (SECRET_NAME, NEW_NOTE)
    assert client.post(url, data={"remove": "y"}).status_code == 302
    person = _participant(pid)
    assert (person.display_name, person.notes) == (None, None)


@pytest.mark.usefixtures("deferred_reads", "no_csrf")
def test_web_refuses_other_leaders_bad_input_and_names_where_they_are_off(
    client: FlaskClient, world: World
) -> None:
    pid = world.participant.id
    sign_in_as(client, world.other_leader)
    assert client.post(f"/participants/{pid}/name", data={"display_name": "X"}).status_code == 403
    sign_in_as(client, world.leader)
    too_long = client.post(f"/participants/{pid}/name", data={"display_name": "N" * 61})
    assert too_long.status_code == 400 and "field-invalid" in too_long.get_data(as_text=True)
    assert _participant(pid).display_name == SECRET_NAME

    person = _codes_only(world)
    url = f"/participants/{person.id}/name"
    sign_in_as(client, world.other_leader)
    page = client.get(url).get_data(as_text=True)
    assert "codes only" in page and 'name="display_name"' not in page
    refused = client.post(url, data={"display_name": NEW_NAME})
    assert refused.status_code == 400 and "codes only" in refused.get_data(as_text=True)
    assert _participant(person.id).display_name is None


@pytest.mark.usefixtures("deferred_reads", "no_csrf")
def test_the_keep_names_setting_on_the_organisation_form(
    client: FlaskClient, world: World, factory: Factory
) -> None:
    org = factory.organisation(name="Riverside Library", kind="library")
    db.session.commit()
    sign_in_as(client, world.manager)
    page = client.get(f"/organisations/{org.id}/edit").get_data(as_text=True)
    assert 'name="keep_names"' in page
    form = {"name": "Riverside Library", "kind": "library", "keep_names": "y"}
    assert client.post(f"/organisations/{org.id}/edit", data=form).status_code == 302
    assert _participant_org(org.id).keep_names is True
    # The host's participants hold names: switching off is refused inline, nothing written.
    host = {"name": "Northmoor Trust", "kind": "nhs_trust"}
    refused = client.post(f"/organisations/{world.host.id}/edit", data=host)
    assert refused.status_code == 400 and "still have a name" in refused.get_data(as_text=True)
    assert _participant_org(world.host.id).keep_names is True


def _participant_org(org_id: int) -> Organisation:
    db.session.rollback()
    return db.session.get(Organisation, org_id)


# --- API ------------------------------------------------------------------------------------------


def _api(world: World) -> dict[str, dict[str, str]]:
    tokens = {
        role: {"Authorization": f"Bearer {create_token(getattr(world, role)).secret}"}
        for role in ("admin", "manager", "leader", "other_leader", "partner")
    }
    db.session.commit()
    return tokens


def _patch(client: FlaskClient, url: str, headers: dict[str, str], body: dict[str, object]):  # type: ignore[no-untyped-def]
    read = client.get(url, headers=headers)
    etag = read.headers.get("ETag", '"unseen"') if read.status_code == 200 else '"unseen"'
    return client.patch(url, headers=headers | {"If-Match": etag}, json=body)


@pytest.mark.usefixtures("deferred_reads")
def test_api_records_names_where_allowed_and_shows_them_only_on_request(
    client: FlaskClient, world: World
) -> None:
    h = _api(world)
    pid = world.participant.id
    url = f"/api/v1/participants/{pid}"
    for role, status in (("partner", 404), ("other_leader", 404)):
        assert _patch(client, url, h[role], {"display_name": "X"}).status_code == status, role
        body = client.get(url + "?show=name", headers=h[role]).get_data(as_text=True)
        assert SECRET_NAME not in body
    assert client.get("/api/v1/participants", headers=h["partner"]).status_code == 403
    listed = client.get("/api/v1/participants", headers=h["other_leader"]).get_json()
    assert pid not in {p["id"] for p in listed}

    done = _patch(client, url, h["leader"], {"display_name": NEW_NAME, "notes": NEW_NOTE})
    assert done.status_code == 200, done.get_data(as_text=True)
    assert done.get_json()["display_name"] is None  # never in an answer unless asked
    assert (_participant(pid).display_name, _participant(pid).notes) == (NEW_NAME, NEW_NOTE)
    listed = client.get("/api/v1/participants", headers=h["leader"]).get_json()
    assert [p["display_name"] for p in listed if p["id"] == pid] == [None]
    assert events(action="view_name") == []

    shown = client.get(url + "?show=name", headers=h["leader"]).get_json()
    assert (shown["display_name"], shown["notes"]) == (NEW_NAME, NEW_NOTE)
    assert [e.entity_id for e in events(action="view_name")] == [str(pid)]
    # A manager records names but is never shown one.
    assert client.get(url + "?show=name", headers=h["manager"]).get_json()["display_name"] is None
    assert _patch(client, url, h["manager"], {"notes": None}).status_code == 200
    assert _participant(pid).notes is None and _participant(pid).display_name == NEW_NAME
    assert NEW_NAME not in all_changes_text() and NEW_NOTE not in all_changes_text()


@pytest.mark.usefixtures("deferred_reads")
def test_api_refuses_names_where_they_are_off_and_bad_input(
    client: FlaskClient, world: World
) -> None:
    h = _api(world)
    person = _codes_only(world)
    url = f"/api/v1/participants/{person.id}"
    refused = _patch(client, url, h["manager"], {"display_name": NEW_NAME})
    assert refused.status_code == 422 and refused.content_type == "application/problem+json"
    assert "codes only" in refused.get_json()["detail"]
    assert refused.get_json()["errors"]["json"]["display_name"]
    assert _participant(person.id).display_name is None
    long = _patch(
        client,
        f"/api/v1/participants/{world.participant.id}",
        h["admin"],
        {"display_name": "N" * 61},
    )
    assert long.status_code == 422 and "display_name" in long.get_json()["errors"]["json"]
    unknown = _patch(client, url, h["admin"], {"surname": "Smith"})
    assert unknown.status_code == 422
    assert _patch(client, url, h["other_leader"], {"notes": ""}).status_code == 200


# --- CSV import -------------------------------------------------------------------------------


def _csv(codes: str, new_codes: str, names: str) -> bytes:
    day = (utcnow() - timedelta(days=1)).date().isoformat()
    return (
        "date,status,participants,first_time,participant_codes,new_codes,names\n"
        f'{day},delivered,3,1,{codes},{new_codes},"{names}"\n'
    ).encode()


def test_csv_import_takes_names_only_where_the_organisation_keeps_them(world: World) -> None:
    code = world.participant.code
    data = _csv(code, "NEW-9", f"NEW-9: {NEW_NAME}; {code}: Ann")
    import_attendance(world.group, data, actor=world.leader)
    new = db.session.scalar(sa.select(Participant).where(Participant.code == "NEW-9"))
    assert new is not None and new.display_name == NEW_NAME
    assert world.participant.display_name == "Ann"
    db.session.rollback()

    person = _codes_only(world)
    data = _csv(person.code, "", f"{person.code}: {NEW_NAME}")
    with pytest.raises(ImportRejected) as rejected:
        import_attendance(world.other_group, data, actor=world.other_leader)
    (error,) = rejected.value.errors
    assert error.line == 2 and error.message.startswith("names:") and "codes only" in error.message
    db.session.rollback()

    for names, message in (
        ("NOBODY-1: Ann", "not in participant_codes"),
        ("NEW-9 Ann", "CODE: first name"),
        ("NEW-9: " + "N" * 61, str(PARTICIPANT_NAME)),
    ):
        with pytest.raises(ImportRejected) as rejected:
            import_attendance(world.group, _csv("", "NEW-9", names), actor=world.leader)
        assert message in rejected.value.errors[0].message, names
        db.session.rollback()
