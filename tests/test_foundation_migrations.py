"""The migrations build the schema the models describe, on both databases."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from flask_migrate import upgrade

from readerapp import create_app
from readerapp.db import include_object
from readerapp.extensions import db

from .conftest import TEST_DATABASE_URL, create_postgres_database, drop_postgres_database

ON_POSTGRES = TEST_DATABASE_URL.startswith("postgresql")


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database at the head revision holding the demo data, built once for the module (the
    migrations and the seeding are most of each test's time); tests get copies of it."""
    if ON_POSTGRES:
        url, name = create_postgres_database(TEST_DATABASE_URL)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('template') / 'demo.sqlite3'}"
    from readerapp.demo import seed

    app = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": url},
        instance_path=str(tmp_path_factory.mktemp("template-instance")),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()  # a PostgreSQL template must have nobody connected
    yield url
    if ON_POSTGRES:
        drop_postgres_database(TEST_DATABASE_URL, name)


@pytest.fixture
def demo_database_url(demo_template: str, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own at the head revision, holding the demo data."""
    if ON_POSTGRES:
        template = sa.make_url(demo_template).database
        url, name = create_postgres_database(TEST_DATABASE_URL, template=template)
        yield url
        drop_postgres_database(TEST_DATABASE_URL, name)
        return
    copy = tmp_path / "demo.sqlite3"
    source = sqlite3.connect(sa.make_url(demo_template).database)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)
    finally:
        target.close()
        source.close()
    yield f"sqlite:///{copy}"


@pytest.fixture
def empty_database_url(tmp_path: Path) -> str:
    if TEST_DATABASE_URL.startswith("postgresql"):
        url, name = create_postgres_database(TEST_DATABASE_URL)
        yield url
        drop_postgres_database(TEST_DATABASE_URL, name)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def test_upgrade_from_empty_matches_the_models(empty_database_url: str, tmp_path: Path) -> None:
    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn,
                opts={
                    "compare_type": True,
                    "compare_server_default": False,
                    "include_object": include_object,
                },
            )
            diff = compare_metadata(context, db.metadata)
            tables = set(sa.inspect(conn).get_table_names())
        db.engine.dispose()
    assert diff == [], f"models and migrations disagree: {diff}"
    assert {"organisation", "reading_session", "attendance", "broadcast"} <= tables


def test_every_revision_file_is_date_prefixed() -> None:
    versions = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    files = [p.name for p in versions.glob("*.py")]
    assert files
    assert all(name[:8].isdigit() and name[8] == "_" for name in files), files


def test_the_outbox_lease_migration_keeps_the_messages_already_queued(
    empty_database_url: str, tmp_path: Path
) -> None:
    from readerapp.models import OutboxMessage
    from readerapp.notifications.outbox import claim

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="0005")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO outbox_message (dedupe_key, kind, recipient, subject, body, "
                    "status, attempts, created_at, updated_at) VALUES "
                    "('a', 'test', 'a@example.org', 'A', 'a', 'queued', 2, "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00'), "
                    "('b', 'test', 'b@example.org', 'B', 'b', 'sent', 1, "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT dedupe_key, status, attempts, lease_until, message_id "
                    "FROM outbox_message ORDER BY dedupe_key"
                )
            ).all()
        assert [tuple(r) for r in rows] == [
            ("a", "queued", 2, None, None),
            ("b", "sent", 1, None, None),
        ]
        queued_id = db.session.scalar(sa.select(OutboxMessage.id).filter_by(dedupe_key="a"))
        held = claim(queued_id)  # the new state is allowed, and the old row gets a Message-ID
        assert held is not None and held.attempt == 3
        row = db.session.get(OutboxMessage, queued_id)
        assert row.status == "sending" and row.message_id
        db.session.rollback()
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            conn.execute(sa.text("UPDATE outbox_message SET status = 'lost'"))
        db.session.remove()
        db.engine.dispose()


def test_messages_held_for_want_of_a_mail_server_wait_in_the_queue_after_upgrade(
    empty_database_url: str, tmp_path: Path
) -> None:
    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="0006")
        with db.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO outbox_message (dedupe_key, kind, recipient, subject, body, "
                    "status, attempts, created_at, updated_at) VALUES "
                    "('a', 'test', 'a@example.org', 'A', 'a', 'held', 0, "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00'), "
                    "('b', 'test', '', 'B', 'b', 'held', 0, "
                    "'2026-11-01 10:00:00', '2026-11-01 10:00:00')"
                )
            )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT dedupe_key, status FROM outbox_message ORDER BY dedupe_key")
            ).all()
        # Sent once mail is configured; a message with no recipient stays held.
        assert [tuple(r) for r in rows] == [("a", "queued"), ("b", "held")]
        db.session.remove()
        db.engine.dispose()


def test_keep_names_is_switched_on_only_where_participants_already_hold_names(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        # A database holding the demo data, as it stood before the setting existed.
        downgrade(revision="0007")
        with db.engine.begin() as conn:
            named_org = conn.scalar(
                sa.text("SELECT organisation_id FROM participant ORDER BY id LIMIT 1")
            )
            conn.execute(
                sa.text(
                    "UPDATE participant SET display_name = 'Ann' WHERE id = "
                    "(SELECT MIN(id) FROM participant)"
                )
            )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            kept = set(conn.scalars(sa.text("SELECT id FROM organisation WHERE keep_names")))
            organisations = conn.scalar(sa.text("SELECT COUNT(*) FROM organisation"))
        assert kept == {named_org}  # the others stay codes only, the default
        assert organisations > 1
        db.session.remove()
        db.engine.dispose()


def test_the_expected_maximum_migration_upgrades_a_database_holding_demo_data(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        with db.engine.connect() as conn:
            sessions = conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar()
        downgrade(revision="0009")
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            # Nothing that hangs off a group is lost on the way.
            assert (
                conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar() == sessions
            )

            rows = dict(
                conn.execute(
                    sa.text(
                        "SELECT name, keeps_register FROM reading_group WHERE expected_max IS NULL"
                    )
                ).all()
            )
        # Headcount-only demo groups (the ward) are recognised from their history.
        assert rows["Willow Ward Readers"] in (False, 0)
        assert any(value in (True, 1) for value in rows.values())
        db.session.remove()
        db.engine.dispose()


def test_the_report_narratives_migration_upgrades_a_database_holding_demo_data(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        downgrade(revision="0010")
        with db.engine.connect() as conn:
            assert "report_narrative" not in sa.inspect(conn).get_table_names()
            before = {
                table: conn.scalar(sa.select(sa.func.count()).select_from(sa.table(table)))
                for table in ("organisation", "reading_session", "attendance", "user_account")
            }
        upgrade(revision="heads")
        with db.engine.begin() as conn:
            for table, n in before.items():
                assert conn.scalar(sa.select(sa.func.count()).select_from(sa.table(table))) == n
            organisation_id, user_id = conn.execute(
                sa.text(
                    "SELECT (SELECT min(id) FROM organisation), (SELECT min(id) FROM user_account)"
                )
            ).one()
            # The new tables take what the application writes into them.
            conn.execute(
                sa.text(
                    "INSERT INTO report_narrative (organisation_id, date_from, date_to, version, "
                    "text, saved_by_id, saved_at) VALUES (:o, :f, :t, 1, 'A good quarter.', :u, "
                    "CURRENT_TIMESTAMP)"
                ),
                {"o": organisation_id, "f": date(2026, 1, 1), "t": date(2026, 3, 31), "u": user_id},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO report_quote (narrative_id, position, text, attribution) "
                    "SELECT id, 1, 'Stories stay with me.', 'participant' FROM report_narrative"
                )
            )
            conn.execute(
                sa.text(
                    "INSERT INTO report_preset (name, organisation_id, period_type, sections, "
                    "created_at) VALUES ('Quarterly', :o, 'quarter', 'groups', CURRENT_TIMESTAMP)"
                ),
                {"o": organisation_id},
            )
        with pytest.raises(sa.exc.IntegrityError), db.engine.begin() as conn:
            # A custom range needs its dates.
            conn.execute(
                sa.text(
                    "INSERT INTO report_preset (name, period_type, sections, created_at) "
                    "VALUES ('Broken', 'custom', 'groups', CURRENT_TIMESTAMP)"
                )
            )
        downgrade(revision="0010")
        with db.engine.connect() as conn:
            assert "report_preset" not in sa.inspect(conn).get_table_names()
            assert (
                conn.execute(sa.text("SELECT count(*) FROM organisation")).scalar()
                == (before["organisation"])
            )
        db.session.remove()
        db.engine.dispose()


def test_the_action_migration_groups_older_audit_rows_by_actor_and_second(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.audit.queries import AuditFilter, page_of_actions

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        # A database holding the demo data and its audit trail, as it stood at 0011.
        downgrade(revision="0011")
        with db.engine.begin() as conn:
            demo_rows = conn.scalar(sa.text("SELECT count(*) FROM audit_event"))
            conn.execute(sa.text("DELETE FROM audit_event WHERE actor_label = 'old@example.org'"))
            conn.execute(
                sa.text(
                    "INSERT INTO audit_event (at, actor_label, action, entity_type, entity_id) "
                    "VALUES (:at, :actor, 'create', 'group', :id)"
                ),
                [
                    # One person's two rows in one second: one action.
                    {"at": "2026-03-01 12:00:00.100000", "actor": "old@example.org", "id": "1"},
                    {"at": "2026-03-01 12:00:00.900000", "actor": "old@example.org", "id": "2"},
                    # The next second, and someone else in the same second: actions apart.
                    {"at": "2026-03-01 12:00:01.000000", "actor": "old@example.org", "id": "3"},
                    {"at": "2026-03-01 12:00:00.500000", "actor": "other@example.org", "id": "4"},
                ],
            )
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            actions = dict(
                conn.execute(
                    sa.text(
                        "SELECT entity_id, action_id FROM audit_event "
                        "WHERE actor_label IN ('old@example.org', 'other@example.org')"
                    )
                ).all()
            )
            missing = conn.scalar(
                sa.text("SELECT count(*) FROM audit_event WHERE action_id IS NULL")
            )
            total = conn.scalar(sa.text("SELECT count(*) FROM audit_event"))
        assert missing == 0 and total == demo_rows + 4
        assert actions["1"] == actions["2"]
        assert len({actions["1"], actions["3"], actions["4"]}) == 3
        # The page shows them: the two rows of one second as one entry.
        page, _ = page_of_actions(AuditFilter(actor="example.org", date_to=date(2026, 3, 1)), 1)
        assert [sorted(e.entity_id for e in a.rows) for a in page] == [["3"], ["1", "2"], ["4"]]
        db.session.remove()
        db.engine.dispose()


def test_the_measures_migration_upgrades_a_database_holding_demo_data(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.outcomes.operations import load_builtin_measures

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        downgrade(revision="0012")
        with db.engine.connect() as conn:
            sessions = conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar()
            assert "measure" not in sa.inspect(conn).get_table_names()
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert (
                conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar() == sessions
            )
        # The upgraded database takes the measures that ship with readerapp.
        assert [m.outcome for m in load_builtin_measures()] == ["new measure"]
        db.session.commit()
        db.session.remove()
        db.engine.dispose()


def test_the_hand_over_migration_upgrades_a_database_holding_demo_data(
    demo_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.outcomes.hand_over import find_hand_over, open_hand_over
    from readerapp.outcomes.models import MeasureVersion
    from readerapp.outcomes.operations import load_builtin_measures
    from readerapp.users.models import User

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": demo_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        load_builtin_measures()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0015")
        with db.engine.connect() as conn:
            answer_sets = conn.execute(sa.text("SELECT count(*) FROM answer_set")).scalar()
            versions = conn.execute(sa.text("SELECT count(*) FROM measure_version")).scalar()
            assert "hand_over" not in sa.inspect(conn).get_table_names()
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert "hand_over" in sa.inspect(conn).get_table_names()
            assert conn.execute(sa.text("SELECT count(*) FROM answer_set")).scalar() == answer_sets
            assert (
                conn.execute(sa.text("SELECT count(*) FROM measure_version")).scalar() == versions
            )
        # The upgraded database keeps answers in progress on the server.
        from readerapp.attendance.models import ParticipantAttendance

        present = db.session.scalars(sa.select(ParticipantAttendance)).first()
        assert present is not None
        version = db.session.scalars(sa.select(MeasureVersion)).first()
        leader = db.session.scalars(sa.select(User)).first()
        token = open_hand_over(present.session_id, present.participant_id, version.id, leader.id)
        db.session.commit()
        kept = find_hand_over(token)
        assert kept is not None and kept.answers == {} and kept.expires_at > kept.started_at
        db.session.remove()
        db.engine.dispose()


def test_the_quotes_and_voices_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.demo import seed
    from readerapp.exports.models import ReportNarrative, ReportQuote
    from readerapp.outcomes.models import EpisodeVoice

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed()
        organisation_id = db.session.scalar(sa.text("SELECT min(id) FROM organisation"))
        db.session.add(
            ReportNarrative(
                organisation_id=organisation_id,
                date_from=date(2026, 1, 1),
                date_to=date(2026, 3, 31),
                version=1,
                text="A calm quarter.",
                quotes=[ReportQuote(position=1, text="It helps.", attribution="participant")],
            )
        )
        db.session.commit()
        db.session.remove()
        downgrade(revision="0016")
        with db.engine.connect() as conn:
            assert "episode_voice" not in sa.inspect(conn).get_table_names()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("report_quote")}
            assert "participant_id" not in columns
            episodes = conn.execute(sa.text("SELECT count(*) FROM episode")).scalar()
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM episode")).scalar() == episodes
        # Quotes written before stay, tied to nobody; episodes list no voices yet.
        quote = db.session.scalars(sa.select(ReportQuote)).one()
        assert quote.text == "It helps." and quote.participant_id is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(EpisodeVoice)) == 0
        db.session.remove()
        db.engine.dispose()


def test_the_log_receipts_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.demo import seed
    from readerapp.logbook.operations import receive_once
    from readerapp.sessions.models import ReadingSession

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    counted = {
        name: sa.text(f"SELECT count(*) FROM {name}")  # noqa: S608  (fixed table names)
        for name in ("reading_session", "participant_attendance", "attendance", "session_material")
    }
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0017")
        with db.engine.connect() as conn:
            before = {t: conn.execute(query).scalar() for t, query in counted.items()}
            assert "log_receipt" not in sa.inspect(conn).get_table_names()
            columns = {c["name"] for c in sa.inspect(conn).get_columns("reading_session")}
            assert "entered_late_at" not in columns
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            # Nothing that hangs off a session is lost on the way.
            after = {t: conn.execute(query).scalar() for t, query in counted.items()}
            assert after == before and before["participant_attendance"] > 0
        # The upgraded database keeps a log's idempotency key, once.
        session = db.session.scalars(sa.select(ReadingSession)).first()
        assert session is not None and session.entered_late_at is None
        assert receive_once("device-key-1", session, None) is None
        db.session.commit()
        assert receive_once("device-key-1", session, None) is not None
        db.session.remove()
        db.engine.dispose()


def test_the_staff_accounts_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.accounts.operations import invitation_for_link, invite, new_token
    from readerapp.demo import seed
    from readerapp.users.models import User

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0018")
        with db.engine.connect() as conn:
            users = conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar()
            assert "invitation" not in sa.inspect(conn).get_table_names()
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar() == users
            assert "password_reset" in sa.inspect(conn).get_table_names()
        # The upgraded database keeps invitations; the demo's accounts still sign in.
        admin = db.session.scalars(sa.select(User).where(User.role == "admin")).first()
        assert admin is not None and admin.active
        invitation = invite(
            email="new@example.org",
            display_name="New",
            role="reader_leader",
            organisation_id=None,
            invited_by=admin,
        )
        db.session.commit()
        assert invitation.id is not None and new_token()[0]
        with pytest.raises(Exception, match="unknown"):
            invitation_for_link("not a link")
        db.session.remove()
        db.engine.dispose()


def test_the_workforce_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.demo import seed

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    tables = ("leader_record", "leader_training", "leader_check", "renewal_reminder")
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0019")
        with db.engine.connect() as conn:
            sessions = conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar()
            users = conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar()
            assert not set(tables) & set(sa.inspect(conn).get_table_names())
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert set(tables) <= set(sa.inspect(conn).get_table_names())
            assert (
                conn.execute(sa.text("SELECT count(*) FROM reading_session")).scalar() == sessions
            )
            assert conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar() == users
            leader = conn.execute(
                sa.text("SELECT id FROM user_account WHERE role = 'reader_leader'")
            ).scalar()
        # The upgraded database takes a leader's check.
        from datetime import date

        from readerapp.workforce.models import CheckRecord

        db.session.add(
            CheckRecord(
                user_id=leader,
                check_type="enhanced_dbs_barred",
                certificate_last_digits="1234",
                issued_on=date(2026, 1, 5),
                renewal_due=date(2029, 1, 5),
            )
        )
        db.session.commit()
        db.session.remove()


def test_the_safeguarding_and_referrals_migration_upgrades_a_database_holding_demo_data(
    empty_database_url: str, tmp_path: Path
) -> None:
    from flask_migrate import downgrade

    from readerapp.attendance.models import Participant
    from readerapp.demo import seed
    from readerapp.outcomes.answers import record_consent
    from readerapp.referrals.operations import ReferralInput, create_referral
    from readerapp.users.models import User

    app: Flask = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_database_url},
        instance_path=str(tmp_path),
    )
    with app.app_context():
        upgrade(revision="heads")
        seed()
        db.session.commit()
        db.session.remove()
        downgrade(revision="0020")
        with db.engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            assert not {"safeguarding_concern", "referral", "referral_step"} & set(tables)
            users = conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar()
            consents = conn.execute(sa.text("SELECT count(*) FROM consent_record")).scalar()
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM user_account")).scalar() == users
            assert conn.execute(sa.text("SELECT count(*) FROM consent_record")).scalar() == consents
            leads = conn.execute(
                sa.text("SELECT count(*) FROM user_account WHERE safeguarding_lead")
            ).scalar()
            assert leads == 0  # nobody reads concerns until an admin chooses them
        # The upgraded database takes referrals with the new consent purposes.
        person = db.session.scalars(sa.select(Participant)).first()
        assert person is not None
        record_consent(person, "referrer_updates", True, date(2026, 11, 1), None)
        referral = create_referral(
            ReferralInput(
                organisation_id=person.organisation_id,
                code=person.code,
                referred_on=date(2026, 1, 5),
                reason="loneliness",
            ),
            db.session.scalars(sa.select(User)).first(),
        )
        db.session.commit()
        assert referral.status in ("referred", "first_session", "regular")
        db.session.remove()
        db.engine.dispose()
