"""The audit page reads as words: labels, values for people, links to what changed, and one
entry per action, while the CSV keeps the raw values."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.audit.models import AuditEvent
from readerapp.audit.trail import tracked_models
from readerapp.audit.words import KINDS, field_label
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.organisations.models import Organisation, Partnership
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import to_local, utcnow

from . import groups_support
from .audit_support import deferred_reads  # noqa: F401  (fixture)
from .factories import Factory
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, World, build_world, client_for

no_csrf = groups_support.no_csrf
pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world() -> World:
    return build_world()


def _rows(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [row for row in body.split("<tr>")[1:]]


def _admin_page(app: Flask, world: World, query: str = "") -> str:
    response = client_for(app, world.admin).get(f"/audit{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_new_group_and_its_generated_sessions_are_one_entry_that_expands(
    app: Flask, world: World, no_csrf: None
) -> None:
    response = client_for(app, world.manager).post(
        "/groups/new",
        data={
            "name": "Larch Ward Readers",
            "venue_id": str(world.venue.id),
            "lead_leader_id": str(world.leader.id),
            "status": "active",
            "frequency": "weekly",
            "weekdays": ["TH"],
            "start_time": "14:00",
            "duration_minutes": "60",
            "tz_name": "Europe/London",
            "first_date": to_local(utcnow()).date().isoformat(),
            "end": "count",
            "count": "12",
            "excluded_dates": "",
        },
    )
    assert response.status_code == 302
    db.session.rollback()
    group = db.session.scalar(sa.select(ReadingGroup).filter_by(name="Larch Ward Readers"))
    sessions = db.session.scalars(sa.select(ReadingSession).filter_by(group_id=group.id)).all()
    assert len(sessions) == 12
    written = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.actor_label == world.manager.email)
    ).all()
    assert len({e.action_id for e in written}) == 1 and len(written) >= 13

    page = _admin_page(app, world, "?actor=" + world.manager.email)
    (row,) = _rows(page)  # the whole action is one entry
    assert f'Created group <a href="/groups/{group.id}">Larch Ward Readers</a>' in row
    assert "<details" in row
    assert "Created 1 group, 1 partnership, 12 sessions (14 changes in one action)" in row
    for session in sessions:
        assert f'href="/sessions/{session.id}"' in row
    # The new group's settings in words.
    assert "Every Thursday" in row and "60 minutes" in row and "14:00" in row
    assert (
        f'<a href="/organisations/{world.host.id}">Northmoor Hospital (Northmoor Trust)</a>' in row
    )
    assert "Lee Leader" in row


def test_labels_and_values_read_as_words(app: Flask, world: World, factory: Factory) -> None:
    db.session.rollback()
    # Summer time: 20:00 UTC is 21:00 in London.
    world.broadcast.air_dt = datetime(2026, 6, 5, 20, 0, tzinfo=UTC)
    db.session.commit()
    story = factory.material(title="The Open Window", author="Saki")
    world.future_session.materials = [story]
    db.session.commit()
    world.group.keeps_register = False
    world.group.status = "paused"
    world.group.venue_id = factory.venue(world.host, name="Larch House").id
    db.session.commit()
    world.manager.password_hash = "pbkdf2:sha256:secret-hash-value"
    world.manager.role = "reader_leader"
    db.session.commit()

    page = _admin_page(app, world)
    assert "Changed broadcast" in page and "Air time" in page
    assert "Fri 5 Jun 2026, 21:00" in page
    assert "What was read" in page and "The Open Window (Saki)" in page
    assert re.search(r"Keeps a register</dt>\s*<dd>Yes → No", page)
    assert re.search(r"Status</dt>\s*<dd>Active → Paused", page)
    assert "Northmoor Hospital (Northmoor Trust)</a> → <a" in page and "Larch House" in page
    assert re.search(r"Role</dt>\s*<dd>Manager → Reader leader", page)
    assert "Password</dt>" in page and "changed (secret, not shown)" in page
    assert "secret-hash-value" not in page
    entries = "".join(_rows(page))
    for raw in ("air_dt", "materials [", "keeps_register", "venue_id", "True", "False"):
        assert raw not in entries
    for personal in (SECRET_NAME, SECRET_NOTE, SECRET_CODE):
        assert personal not in page


def test_a_deleted_thing_is_named_without_a_link(app: Flask, world: World) -> None:
    db.session.rollback()
    gone = Organisation(name="Closed Charity", kind="charity")
    kept = Organisation(name="Open Charity", kind="charity")
    db.session.add_all([gone, kept])
    db.session.commit()
    gone_id, kept_id = gone.id, kept.id
    db.session.delete(gone)
    db.session.commit()
    page = _admin_page(app, world, "?entity_type=organisation")
    assert "Closed Charity (deleted)" in page
    assert f'href="/organisations/{gone_id}"' not in page
    assert f'<a href="/organisations/{kept_id}">Open Charity</a>' in page
    assert "Deleted organisation Closed Charity (deleted)" in page
    # A row with no name of its own is told from what it recorded.
    db.session.rollback()
    db.session.delete(db.session.get(Partnership, world.group.partnerships[0].id))
    db.session.commit()
    page = _admin_page(app, world, "?entity_type=partnership&action=delete")
    assert re.search(
        rf"Deleted partnership Northmoor Trust, Host, Willow Readers \(deleted\)</p>\s*"
        rf'<dl class="audit-changes">\s*<dt>Organisation</dt>\s*'
        rf'<dd><a href="/organisations/{world.host.id}">Northmoor Trust</a></dd>',
        page,
    )
    assert "→" not in "".join(_rows(page))  # a deleted row's values, not "value → —"


def test_participants_are_never_named_in_the_trail(app: Flask, world: World) -> None:
    page = _admin_page(app, world, "?entity_type=participant")
    assert (
        f'participant <a href="/participants/{world.participant.id}">number {world.participant.id}'
        in (page)
    )
    assert "changed (personal, not shown)" in page
    for personal in (SECRET_NAME, SECRET_NOTE, SECRET_CODE):
        assert personal not in page


def test_rows_without_an_action_stand_alone(app: Flask, world: World) -> None:
    db.session.rollback()
    at = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    rows = [
        {"at": at, "actor_label": "old@example.org", "action": "update", "entity_type": "group",
         "entity_id": str(world.group.id), "changes": {"capacity": [None, n]}, "action_id": None}
        for n in (8, 9)
    ]  # fmt: skip
    db.session.execute(sa.insert(AuditEvent.__table__), rows)
    db.session.commit()
    page = _admin_page(app, world, "?actor=old@example.org")
    assert len(_rows(page)) == 2 and "<details" not in "".join(_rows(page))
    assert re.search(r"Capacity</dt>\s*<dd>— → 9", page)


def test_the_csv_keeps_raw_values_and_the_action_id(app: Flask, world: World) -> None:
    db.session.rollback()
    world.broadcast.air_dt = datetime(2026, 12, 5, 21, 0, tzinfo=UTC)
    db.session.commit()
    update = db.session.scalars(
        sa.select(AuditEvent).filter_by(entity_type="broadcast", action="update")
    ).one()
    response = client_for(app, world.admin).get("/audit/export.csv?entity_type=broadcast")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert list(rows[0]) == [
        "id", "at_utc", "actor", "actor_id", "action", "entity_type", "entity_id", "changes",
        "ip_address", "action_id",
    ]  # fmt: skip
    (changed,) = [r for r in rows if r["action"] == "update"]
    assert changed["action_id"] == update.action_id and len(update.action_id) == 32
    assert json.loads(changed["changes"])["air_dt"][1] == "2026-12-05T21:00:00+00:00"
    created = json.loads(next(r for r in rows if r["action"] == "create")["changes"])
    assert created["episode_id"] == [None, world.episode.id]


def test_one_action_can_be_filtered_and_bad_action_ids_are_refused(
    app: Flask, world: World
) -> None:
    db.session.rollback()
    world.group.capacity = 14
    db.session.commit()
    action_id = db.session.scalars(
        sa.select(AuditEvent.action_id).filter_by(entity_type="group", action="update")
    ).one()
    page = _admin_page(app, world, f"?action_id={action_id}")
    (row,) = _rows(page)
    assert "Capacity" in row and "14" in row
    client = client_for(app, world.admin)
    assert client.get("/audit?action_id=" + "x" * 41).status_code == 400
    assert client.get("/audit/export.csv?action_id=" + "x" * 41).status_code == 400
    exported = client.get(f"/audit/export.csv?action_id={action_id}").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))) == 2


def test_every_audited_field_has_a_label() -> None:
    for model, tracked in tracked_models().items():
        assert tracked.entity_type in KINDS
        mapper = sa.inspect(model)
        for attr in mapper.column_attrs:
            if attr.key not in {"created_at", "updated_at", "version", "last_used_at"} and not (
                attr.key.startswith("served_")
            ):
                assert attr.key in KINDS[tracked.entity_type].fields, (model, attr.key)
        for relationship in mapper.relationships:
            if relationship.uselist:
                assert (
                    field_label(tracked.entity_type, relationship.key)
                    == (KINDS[tracked.entity_type].fields[relationship.key])
                )


def test_a_large_action_lists_its_first_rows_and_offers_them_all_as_csv(
    app: Flask, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readerapp.audit import queries

    monkeypatch.setattr(queries, "MAX_ROWS", 5)
    db.session.rollback()
    action_id = db.session.scalars(sa.select(AuditEvent.action_id)).first()
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(AuditEvent).filter_by(action_id=action_id)
    )
    page = _admin_page(app, world)
    (row,) = _rows(page)  # the world was built in one transaction
    assert f"({total} changes in one action)" in row
    assert row.count("<li>") == 5
    assert f"/audit/export.csv?action_id={action_id}" in row


def test_exports_retention_and_bulk_changes_read_as_words(
    app: Flask, world: World, factory: Factory
) -> None:
    from readerapp.audit import record

    db.session.rollback()
    record(
        "export",
        "export",
        None,
        {"kind": "attendance_per_participant", "format": "xlsx", "via": "web",
         "from": "2026-01-01", "to": "2026-03-31"},
    )  # fmt: skip
    record("retention", "participant", None, {"cleared": 3, "months": 24,
           "cutoff": "2024-11-30T10:00:00+00:00"})  # fmt: skip
    db.session.commit()
    db.session.execute(
        sa.update(ReadingGroup).where(ReadingGroup.id == world.group.id).values(status="paused")
    )
    db.session.commit()
    page = _admin_page(app, world)
    assert "Exported data" in page and "Attendance, a row per participant" in page
    assert "Excel (XLSX)" in page and "Thu 1 Jan 2026" in page and "Tue 31 Mar 2026" in page
    assert "Cleared old names and notes of participants" in page
    assert "Sat 30 Nov 2024, 10:00" in page and "Participants cleared" in page
    assert "Changed groups (several at once: Status)" in page


def test_api_tokens_keep_their_capitals_and_never_their_hash(app: Flask, world: World) -> None:
    from readerapp.users.models import ApiToken

    db.session.rollback()
    db.session.add(
        ApiToken(user_id=world.manager.id, name="Reports", token_hash="f" * 64, prefix="rdr_ab")
    )
    db.session.commit()
    page = _admin_page(app, world, "?entity_type=api_token")
    assert (
        f'Created API token <a href="/admin/users/{world.manager.id}/edit">'
        "“Reports” of Mona Manager</a>"
    ) in page
    assert "changed (secret, not shown)" in page and "f" * 64 not in page


def test_links_only_to_pages_the_viewer_may_open(app: Flask, world: World) -> None:
    from readerapp.audit.display import entries
    from readerapp.audit.queries import AuditFilter, page_of_actions

    db.session.rollback()
    world.group.lead_leader_id = world.other_leader.id
    db.session.commit()
    actions, _ = page_of_actions(AuditFilter(entity_type="group", action="update"), 1)
    with app.test_request_context("/audit"):
        (as_admin,) = entries(actions, world.admin)
        (as_manager,) = entries(actions, world.manager)
    (admin_change,) = as_admin.headline.changes
    (manager_change,) = as_manager.headline.changes
    assert admin_change.label == "Lead reader leader"
    assert admin_change.after[0].url == f"/admin/users/{world.other_leader.id}/edit"
    # Only admins open the user pages; managers do open group pages.
    assert manager_change.after[0].words == "Olive Otherleader"
    assert manager_change.after[0].url is None
    assert as_manager.headline.thing.url == f"/groups/{world.group.id}"
