"""Every create, update and delete of the tracked models leaves an audit entry in the same
transaction; secrets and participants' personal data are never stored in it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask_login import login_user

from readerapp.attendance.models import Attendance, Participant, ParticipantAttendance
from readerapp.audit import acting_as, record
from readerapp.audit.models import AuditEvent
from readerapp.audit.trail import HIDDEN, REDACTED
from readerapp.extensions import db
from readerapp.feeds.models import FeedToken
from readerapp.groups.models import ReadingGroup
from readerapp.organisations.models import Partnership
from readerapp.radio.models import Broadcast
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import utcnow
from readerapp.users.models import User

from .audit_support import all_changes_text, events
from .factories import Factory
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, build_world


def test_each_kind_of_row_gets_a_create_entry(factory: Factory) -> None:
    w = build_world(factory)
    token = FeedToken(scope="group", group_id=w.group.id, token_hash="a" * 64, label="Ward")
    db.session.add(token)
    db.session.commit()
    created = {(e.entity_type, e.entity_id) for e in events(action="create")}
    expected = {
        ("group", str(w.group.id)),
        ("session", str(w.past_session.id)),
        ("attendance", str(w.past_session.attendance.id)),
        ("participant_attendance", f"{w.past_session.id}:{w.participant.id}"),
        ("participant", str(w.participant.id)),
        ("user", str(w.admin.id)),
        ("partnership", str(w.group.partnerships[0].id)),
        ("broadcast", str(w.broadcast.id)),
        ("feed_token", str(token.id)),
    }
    assert expected <= created


def test_update_records_old_and_new_values(factory: Factory) -> None:
    group = factory.group(name="Before")
    db.session.commit()
    group.name = "After"
    group.capacity = 12
    db.session.commit()
    (entry,) = events(action="update", entity_type="group")
    assert entry.entity_id == str(group.id)
    assert entry.changes["name"] == ["Before", "After"]
    assert entry.changes["capacity"] == [None, 12]
    assert "updated_at" not in entry.changes


def test_dates_and_times_are_stored_as_iso_text(factory: Factory) -> None:
    session = factory.session()
    db.session.commit()
    old_start = session.start_dt
    session.start_dt = old_start + timedelta(hours=1)
    db.session.commit()
    (entry,) = events(action="update", entity_type="session")
    assert entry.changes["start_dt"] == [
        old_start.isoformat(),
        (old_start + timedelta(hours=1)).isoformat(),
    ]


def test_delete_records_what_was_there(factory: Factory) -> None:
    w = build_world(factory)
    partnership = w.group.partnerships[0]
    partnership_id = partnership.id
    db.session.delete(partnership)
    db.session.commit()
    (entry,) = events(action="delete", entity_type="partnership")
    assert entry.entity_id == str(partnership_id)
    assert entry.changes["role"] == ["host", None]


def test_attendance_changes_and_register_removals_are_recorded(factory: Factory) -> None:
    w = build_world(factory)
    attendance = db.session.get(Attendance, w.past_session.attendance.id)
    attendance.participants = 7
    row = db.session.get(ParticipantAttendance, (w.past_session.id, w.participant.id))
    db.session.delete(row)
    db.session.commit()
    (update,) = events(action="update", entity_type="attendance")
    assert update.changes == {"participants": [6, 7]}
    (delete,) = events(action="delete", entity_type="participant_attendance")
    assert delete.entity_id == f"{w.past_session.id}:{w.participant.id}"


def test_collection_changes_are_recorded_as_ids(factory: Factory) -> None:
    group = factory.group()
    coleader = factory.user("reader_leader")
    db.session.commit()
    group.coleaders.append(coleader)
    db.session.commit()
    (entry,) = events(action="update", entity_type="group")
    assert entry.changes["coleaders"] == [[], [coleader.id]]


def test_an_entry_rolls_back_with_its_change(factory: Factory) -> None:
    group = factory.group(name="Kept")
    db.session.commit()
    before = len(events())
    group.name = "Not kept"
    factory.group(name="Never made")
    db.session.flush()
    assert len(events()) > before  # written in the transaction...
    db.session.rollback()
    assert len(events()) == before  # ...and gone with it
    assert db.session.scalar(sa.select(ReadingGroup.name).where(ReadingGroup.id == group.id)) == (
        "Kept"
    )


def test_secrets_are_redacted(factory: Factory) -> None:
    user = factory.user("manager")
    db.session.commit()
    user.set_password("another long password")
    db.session.commit()
    (entry,) = events(action="update", entity_type="user")
    assert entry.changes["password_hash"] == [REDACTED, REDACTED]
    created = events(action="create", entity_type="user")[0]
    assert created.changes["password_hash"] == [None, REDACTED]
    assert "pbkdf2" not in all_changes_text() and "scrypt" not in all_changes_text()


def test_token_hashes_are_redacted(factory: Factory) -> None:
    group = factory.group()
    db.session.add(FeedToken(scope="group", group_id=group.id, token_hash="f" * 64))
    db.session.commit()
    assert "f" * 64 not in all_changes_text()
    (entry,) = events(action="create", entity_type="feed_token")
    assert entry.changes["token_hash"] == [None, REDACTED]


def test_participant_names_notes_and_codes_are_never_stored(factory: Factory) -> None:
    w = build_world(factory)
    participant = db.session.get(Participant, w.participant.id)
    participant.display_name = SECRET_NAME + " Junior"
    participant.notes = None
    db.session.commit()
    text = all_changes_text()
    for secret in (SECRET_NAME, SECRET_NOTE, SECRET_CODE):
        assert secret not in text
    (entry,) = events(action="update", entity_type="participant")
    assert entry.changes == {"display_name": [HIDDEN, HIDDEN], "notes": [HIDDEN, None]}
    created = events(action="create", entity_type="participant")[0]
    assert created.changes["code"] == [None, HIDDEN]


def test_bookkeeping_updates_leave_no_entry(factory: Factory) -> None:
    group = factory.group()
    token = FeedToken(scope="group", group_id=group.id, token_hash="b" * 64)
    db.session.add(token)
    db.session.commit()
    before = len(events())
    token.served_etag = '"abc"'
    token.served_last_modified = utcnow()
    db.session.commit()
    assert len(events()) == before


def test_bulk_statements_are_recorded_without_values(factory: Factory) -> None:
    w = build_world(factory)
    db.session.execute(
        sa.update(Participant).where(Participant.id == w.participant.id).values(notes=None)
    )
    db.session.execute(
        sa.update(ReadingGroup).where(ReadingGroup.id == w.group.id).values(status="paused")
    )
    db.session.commit()
    bulk = [e for e in events(action="update") if e.changes and e.changes.get("bulk")]
    assert {(e.entity_type, tuple(e.changes["fields"])) for e in bulk} == {
        ("participant", ("notes",)),
        ("group", ("status",)),
    }


def test_actor_and_address_from_the_signed_in_user(app: Flask, factory: Factory) -> None:
    admin = factory.user("admin", email="ada@example.org")
    db.session.commit()
    with app.test_request_context("/", method="POST", environ_base={"REMOTE_ADDR": "10.1.2.3"}):
        login_user(admin)
        factory.group(name="By Ada")
        db.session.commit()
    (entry,) = events(action="create", entity_type="group")
    assert (entry.actor_id, entry.actor_label, entry.ip_address) == (
        admin.id,
        "ada@example.org",
        "10.1.2.3",
    )


def test_explicit_actor_for_jobs(factory: Factory) -> None:
    with acting_as("system:scheduler"):
        factory.session()
        db.session.commit()
    entry = events(action="create", entity_type="session")[0]
    assert (entry.actor_id, entry.actor_label, entry.ip_address) == (
        None,
        "system:scheduler",
        None,
    )
    factory.group()
    db.session.commit()
    assert events(action="create", entity_type="group")[-1].actor_label == "system"


def test_deleting_the_acting_account_keeps_the_entry(app: Flask, factory: Factory) -> None:
    admin = factory.user("admin")
    db.session.commit()
    with app.test_request_context("/", method="POST"):
        login_user(admin)
        db.session.delete(admin)
        db.session.commit()
    (entry,) = events(action="delete", entity_type="user")
    assert entry.actor_id is None and entry.actor_label == admin.email


def test_audit_events_cannot_be_changed_or_deleted(factory: Factory) -> None:
    factory.group()
    db.session.commit()
    entry = events()[0]
    entry.action = "forged"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    entry = events()[0]
    db.session.delete(entry)
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    assert events()[0].action == "create"


def test_record_joins_the_callers_transaction_outside_requests(factory: Factory) -> None:
    record("export", "export", None, {"kind": "register", "rows": 3})
    assert events(action="export")[0].changes == {"kind": "register", "rows": 3}
    db.session.rollback()
    assert events(action="export") == []


def test_record_in_a_read_only_request_commits_on_its_own(app: Flask, factory: Factory) -> None:
    participant_id = factory.participant(factory.organisation()).id
    db.session.commit()  # the test holds no lock while the "request" writes
    with app.test_request_context("/", method="GET"):
        record("view_name", "participant", participant_id)
        db.session.rollback()  # the view's own transaction is never committed
    db.session.rollback()
    (entry,) = events(action="view_name")
    assert entry.entity_id == str(participant_id)


def test_cli_commands_are_named_as_the_actor(app: Flask, factory: Factory) -> None:
    w = build_world(factory)
    participant = db.session.get(Participant, w.participant.id)
    participant.created_at = utcnow() - timedelta(days=3650)
    db.session.commit()
    db.session.execute(
        sa.update(ReadingSession)
        .where(ReadingSession.id == w.past_session.id)
        .values(start_dt=utcnow() - timedelta(days=3000))
    )
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["privacy", "apply-retention"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    (entry,) = events(action="update", entity_type="participant")
    assert entry.actor_label == "cli:privacy apply-retention"
    # The command's changes and its own record are one action.
    by_command = [e for e in events() if e.actor_label.startswith("cli:")]
    assert len(by_command) >= 2 and len({e.action_id for e in by_command}) == 1


def test_each_job_request_and_transaction_is_one_action(app: Flask, factory: Factory) -> None:
    with acting_as("system:scheduler"):  # a job that commits twice is still one action
        factory.group(name="Job A")
        db.session.commit()
        factory.group(name="Job A too")
        db.session.commit()
    with acting_as("system:scheduler"):
        factory.group(name="Job B")
        db.session.commit()
    with app.test_request_context("/", method="POST"):
        factory.group(name="Request")
        db.session.commit()
        factory.group(name="Request too")
        db.session.commit()
    factory.group(name="Script")  # outside all of them: one action per transaction
    db.session.commit()
    factory.group(name="Script again")
    db.session.commit()
    action = {e.changes["name"][1]: e.action_id for e in events(entity_type="group")}
    assert all(action.values())
    assert action["Job A"] == action["Job A too"]
    assert action["Request"] == action["Request too"]
    assert len(set(action.values())) == 5
    # A group's venue and organisation, made in the same transaction, share its action.
    venue = events(entity_type="venue")[-1]
    assert venue.action_id == action["Script again"]


def test_untracked_rows_leave_no_entry(factory: Factory) -> None:
    factory.material()
    db.session.commit()
    assert events() == []


def test_broadcast_and_user_updates(factory: Factory) -> None:
    w = build_world(factory)
    broadcast = db.session.get(Broadcast, w.broadcast.id)
    broadcast.status = "cancelled"
    broadcast.cancellation_reason = "Station off air"
    user = db.session.get(User, w.partner.id)
    user.active = False
    db.session.commit()
    (b,) = events(action="update", entity_type="broadcast")
    assert b.changes["status"] == ["scheduled", "cancelled"]
    (u,) = events(action="update", entity_type="user")
    assert u.changes == {"active": [True, False]}


def test_partnership_dates(factory: Factory) -> None:
    w = build_world(factory)
    partnership = db.session.get(Partnership, w.group.partnerships[0].id)
    partnership.end_date = date(2026, 12, 31)
    db.session.commit()
    (entry,) = events(action="update", entity_type="partnership")
    assert entry.changes == {"end_date": [None, "2026-12-31"]}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) > 0
