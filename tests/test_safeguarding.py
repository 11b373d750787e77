"""The safeguarding log: leaders raise concerns and then see only that each was received;
designated safeguarding leads alone read and manage them, on the web and in the API, every read
audited; the audit trail never holds what a concern says; concerns keep their own retention."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.api.tokens import create_token
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.privacy import apply_retention
from readerapp.safeguarding.models import Concern
from readerapp.safeguarding.operations import apply_concern_retention
from readerapp.timeutil import to_local, utcnow
from readerapp.users.models import User

from .api_helpers import etag_of, is_problem
from .groups_support import fresh, no_csrf  # noqa: F401
from .world import SECRET_CONCERN, SECRET_CONCERN_ACTION, World, build_world, client_for

NEW_TEXT = "Said a visitor takes his bank card every Friday, Ptolemy-Hargreaves"
NON_LEADS = ("admin", "manager", "leader", "other_leader", "partner", "other_partner")


@pytest.fixture
def world() -> Iterator[World]:
    yield build_world()


def _events(action: str, entity_type: str, entity_id: int | None = None) -> list[AuditEvent]:
    fresh()
    query = sa.select(AuditEvent).where(
        AuditEvent.action == action, AuditEvent.entity_type == entity_type
    )
    if entity_id is not None:
        query = query.where(AuditEvent.entity_id == str(entity_id))
    return list(db.session.scalars(query))


def _concern_form(**changes: str) -> dict[str, str]:
    when = to_local(utcnow() - timedelta(hours=2))
    return {
        "category": "exploitation",
        "seen_or_said": NEW_TEXT,
        "action_taken": "Told the ward manager",
        "who_was_told": "Ward manager",
        "occurred_on": when.date().isoformat(),
        "occurred_time": when.strftime("%H:%M"),
    } | changes


@pytest.mark.usefixtures("no_csrf")
def test_a_leader_raises_a_concern_and_sees_only_that_it_was_received(
    app: Flask, world: World
) -> None:
    leader = client_for(app, world.leader)
    url = f"/safeguarding/concerns/new?session_id={world.past_session.id}"
    db.session.commit()
    response = leader.post(url, data=_concern_form())
    assert response.status_code == 302, response.get_data(as_text=True)
    fresh()
    concern = db.session.scalars(sa.select(Concern).where(Concern.seen_or_said == NEW_TEXT)).one()
    assert concern.raised_by_id == world.leader.id and concern.status == "open"
    assert concern.session_id == world.past_session.id
    receipt = leader.get("/safeguarding", follow_redirects=True).get_data(as_text=True)
    assert f"Reference {concern.id}: received" in receipt
    assert NEW_TEXT not in receipt and "Told the ward manager" not in receipt
    assert leader.get(f"/safeguarding/concerns/{concern.id}").status_code == 403
    # The trail says a concern was raised, and by whom, never what it says nor whom about.
    (created,) = _events("create", "concern", concern.id)
    stored = json.dumps(created.changes)
    assert NEW_TEXT not in stored and "exploitation" not in stored
    assert str(world.past_session.id) not in json.dumps(created.changes.get("session_id", ""))


@pytest.mark.usefixtures("no_csrf")
def test_bad_concerns_are_refused_inline_and_nothing_is_written(app: Flask, world: World) -> None:
    leader = client_for(app, world.leader)
    url = f"/safeguarding/concerns/new?session_id={world.past_session.id}"
    future = to_local(utcnow() + timedelta(days=2))
    db.session.commit()
    for bad, field_text in (
        (_concern_form(category="gossip"), "Not a valid choice"),
        (_concern_form(seen_or_said="  "), "This field is required"),
        (
            _concern_form(
                occurred_on=future.date().isoformat(), occurred_time=future.strftime("%H:%M")
            ),
            "cannot be in the future",
        ),
        (_concern_form(seen_or_said="x" * 5001), "5000"),
    ):
        response = leader.post(url, data=bad)
        assert response.status_code == 400
        assert field_text in response.get_data(as_text=True)
    # Unknown sessions and people are not found; another leader's group is refused.
    assert (
        leader.post(
            "/safeguarding/concerns/new?session_id=999999", data=_concern_form()
        ).status_code
        == 404
    )
    assert leader.post("/safeguarding/concerns/new", data=_concern_form()).status_code == 404
    other = client_for(app, world.other_leader)
    db.session.commit()
    assert other.post(url, data=_concern_form()).status_code == 403
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Concern)) == 1  # the world's


@pytest.mark.usefixtures("no_csrf")
def test_only_the_safeguarding_lead_reads_and_moves_a_concern_on(app: Flask, world: World) -> None:
    url = f"/safeguarding/concerns/{world.concern.id}"
    for role in NON_LEADS:
        client = client_for(app, world.user_for(role))
        db.session.commit()
        for page in (url, "/safeguarding"):
            response = client.get(page)
            assert SECRET_CONCERN not in response.get_data(as_text=True), (role, page)
        assert client.get(url).status_code == 403
    lead = client_for(app, world.dsl)
    db.session.commit()
    before = len(_events("view_concern", "concern", world.concern.id))
    page = lead.get(url).get_data(as_text=True)
    assert SECRET_CONCERN in page and SECRET_CONCERN_ACTION in page
    assert len(_events("view_concern", "concern", world.concern.id)) == before + 1
    listing = lead.get("/safeguarding").get_data(as_text=True)
    assert f"/safeguarding/concerns/{world.concern.id}" in listing
    assert len(_events("view_concern", "concern", world.concern.id)) == before + 2

    # Referring needs whom to; closing needs the outcome; nothing changes on a refusal.
    refused = lead.post(f"{url}/status", data={"status": "referred", "referred_to": ""})
    assert refused.status_code == 400 and "whom it was referred to" in refused.get_data(
        as_text=True
    )
    fresh()
    assert db.session.get(Concern, world.concern.id).status == "open"
    moved = lead.post(
        f"{url}/status",
        data={
            "status": "referred",
            "referred_to": "Local authority adult safeguarding",
            "reference": "AS-4471",
        },
    )
    assert moved.status_code == 302
    assert lead.post(f"{url}/status", data={"status": "closed"}).status_code == 400
    assert (
        lead.post(f"{url}/status", data={"status": "closed", "outcome": "Plan agreed"}).status_code
        == 302
    )
    fresh()
    concern = db.session.get(Concern, world.concern.id)
    assert (concern.status, concern.reference) == ("closed", "AS-4471")
    assert concern.closed_at is not None and concern.closed_at.tzinfo is not None
    # A closed concern stays closed.
    again = lead.post(f"{url}/status", data={"status": "referred", "referred_to": "Police"})
    assert again.status_code == 409
    # The changes are in the trail, their content is not.
    updates = _events("update", "concern", world.concern.id)
    assert updates and all("AS-4471" not in json.dumps(e.changes) for e in updates)


@pytest.mark.usefixtures("no_csrf")
def test_admins_grant_the_capability_to_managers_only_and_it_is_audited(
    app: Flask, world: World
) -> None:
    admin = client_for(app, world.admin)
    db.session.commit()
    assert (
        admin.post(
            f"/admin/users/{world.manager.id}/safeguarding-lead", data={"safeguarding_lead": "y"}
        ).status_code
        == 302
    )
    fresh()
    assert db.session.get(User, world.manager.id).safeguarding_lead is True
    granted = [
        e for e in _events("update", "user", world.manager.id) if "safeguarding_lead" in e.changes
    ]
    assert granted
    # The manager now reads the concern; a reader leader cannot be made a lead.
    manager = client_for(app, world.manager)
    db.session.commit()
    assert manager.get(f"/safeguarding/concerns/{world.concern.id}").status_code == 200
    refused = admin.post(
        f"/admin/users/{world.leader.id}/safeguarding-lead", data={"safeguarding_lead": "y"}
    )
    assert refused.status_code == 400
    assert "Only a manager or an admin" in refused.get_data(as_text=True)
    # Withdrawing it (the form sends no value) closes the concerns again.
    assert (
        admin.post(f"/admin/users/{world.manager.id}/safeguarding-lead", data={}).status_code == 302
    )
    manager = client_for(app, world.manager)
    db.session.commit()
    assert manager.get(f"/safeguarding/concerns/{world.concern.id}").status_code == 403
    # A lead whose role becomes reader leader loses the capability with it.
    from readerapp.users.operations import update_user

    dsl = db.session.get(User, world.dsl.id)
    update_user(dsl, display_name=dsl.display_name, role="reader_leader", organisation_id=None)
    db.session.commit()
    assert db.session.get(User, world.dsl.id).safeguarding_lead is False


def test_the_api_gives_concerns_to_safeguarding_leads_alone(app: Flask, world: World) -> None:
    tokens = {role: create_token(world.user_for(role)).secret for role in (*NON_LEADS, "dsl")}
    concern_id, session_id, participant_id = (
        world.concern.id,
        world.past_session.id,
        world.participant.id,
    )
    db.session.commit()
    client = app.test_client()

    def headers(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    for role in NON_LEADS:
        for url in ("/api/v1/concerns", f"/api/v1/concerns/{concern_id}"):
            response = client.get(url, headers=headers(role))
            assert response.status_code == 403 and is_problem(response), (role, url)
            assert SECRET_CONCERN not in response.get_data(as_text=True)
        # A made-up If-Match: the answer shows the permission check, not the precondition.
        patched = client.patch(
            f"/api/v1/concerns/{concern_id}",
            headers=headers(role) | {"If-Match": '"unseen"'},
            json={"status": "closed", "outcome": "x"},
        )
        assert patched.status_code == 403 and SECRET_CONCERN not in patched.get_data(as_text=True)
    listed = client.get("/api/v1/concerns", headers=headers("dsl"))
    assert listed.status_code == 200 and SECRET_CONCERN in listed.get_data(as_text=True)
    one = client.get(f"/api/v1/concerns/{concern_id}", headers=headers("dsl")).get_json()
    assert one["seen_or_said"] == SECRET_CONCERN and one["status"] == "open"
    assert len(_events("view_concern", "concern", concern_id)) == 2

    # A leader raises one and gets a receipt, nothing more.
    occurred = (utcnow() - timedelta(hours=1)).isoformat()
    body = {
        "participant_id": participant_id,
        "session_id": session_id,
        "category": "self_harm",
        "seen_or_said": NEW_TEXT,
        "action_taken": "Stayed with them",
        "occurred_at": occurred,
    }
    raised = client.post("/api/v1/concerns", headers=headers("leader"), json=body)
    assert raised.status_code == 201, raised.get_data(as_text=True)
    assert set(raised.get_json()) == {"id", "status", "received_at"}
    assert raised.get_json()["status"] == "received"
    # Bad input: clear problems, nothing written.
    for bad, status in (
        (body | {"session_id": 999999}, 422),
        (body | {"session_id": None, "participant_id": None}, 422),
        (body | {"occurred_at": "2026-11-30T10:00:00"}, 422),
        (body | {"category": "rumour"}, 422),
        (body | {"occurred_at": (utcnow() + timedelta(days=1)).isoformat()}, 422),
    ):
        answer = client.post("/api/v1/concerns", headers=headers("leader"), json=bad)
        assert answer.status_code == status and is_problem(answer), answer.get_data(as_text=True)
    refused = client.post("/api/v1/concerns", headers=headers("other_leader"), json=body)
    assert refused.status_code == 403
    assert client.post("/api/v1/concerns", headers=headers("partner"), json=body).status_code == 403
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Concern)) == 2
    # The lead moves it on through the API; a jump without what it needs is refused.
    new_id = raised.get_json()["id"]
    url = f"/api/v1/concerns/{new_id}"
    stale = client.patch(
        url, headers=headers("dsl") | {"If-Match": '"stale"'}, json={"status": "referred"}
    )
    assert stale.status_code == 412
    current = headers("dsl") | {"If-Match": etag_of(client, url, headers("dsl"))}
    jump = client.patch(url, headers=current, json={"status": "referred"})
    assert jump.status_code == 422 and is_problem(jump)
    done = client.patch(url, headers=current, json={"status": "closed", "outcome": "Resolved"})
    assert done.status_code == 200 and done.get_json()["status"] == "closed"


def test_concerns_keep_their_own_retention_and_outlive_the_name_retention(
    app: Flask, world: World
) -> None:
    # Everything is long past the participants' retention: names go, concerns stay.
    apply_retention(now=utcnow() + timedelta(days=365 * 5))
    db.session.commit()
    fresh()
    assert db.session.get(Concern, world.concern.id).seen_or_said == SECRET_CONCERN
    old_closed = Concern(
        participant_id=world.participant.id,
        category="neglect",
        seen_or_said="closed long ago",
        action_taken="none",
        occurred_at=utcnow() - timedelta(days=365 * 8),
        status="closed",
        outcome="Resolved",
        closed_at=utcnow() - timedelta(days=365 * 6 + 30),
    )
    recent_closed = Concern(
        participant_id=world.participant.id,
        category="neglect",
        seen_or_said="closed lately",
        action_taken="none",
        occurred_at=utcnow() - timedelta(days=400),
        status="closed",
        outcome="Resolved",
        closed_at=utcnow() - timedelta(days=365 * 5),
    )
    db.session.add_all([old_closed, recent_closed])
    db.session.commit()
    old_id = old_closed.id
    assert apply_concern_retention(app.config["CONCERN_RETENTION_MONTHS"]) == 1
    db.session.commit()
    left = set(db.session.scalars(sa.select(Concern.seen_or_said)))
    assert left == {SECRET_CONCERN, "closed lately"}  # the open one is kept however old
    assert _events("delete", "concern", old_id)
