"""Invitations and password resets: single-use, expiring links sent through the outbox."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.models import OutboxMessage
from readerapp.notifications.outbox import deliver_queued
from readerapp.timeutil import utcnow
from readerapp.users.models import Invitation, PasswordReset, User

from . import groups_support
from .conftest import IsolatedClient
from .factories import PASSWORD, Factory
from .groups_support import fresh
from .mail_support import Inbox, mail_settings
from .mail_support import smtp_server as running_smtp_server
from .world import client_for

NEW_PASSWORD = "a fresh long passphrase"
no_csrf = groups_support.no_csrf
LINK = re.compile(r"http://[^\s]+/(invitation|reset-password)/([A-Za-z0-9_-]+)")


@pytest.fixture
def smtp_server(app: Flask) -> Iterator[Inbox]:
    inbox = Inbox()
    with running_smtp_server(inbox) as port, mail_settings(app, port):
        yield inbox


def _link_in(inbox: Inbox) -> str:
    body = inbox.received[-1].get_payload(decode=True).decode()
    match = LINK.search(body)
    assert match is not None, body
    return f"/{match.group(1)}/{match.group(2)}"


def _set_password(password: str = NEW_PASSWORD) -> dict[str, str]:
    return {"new_password": password, "confirm_password": password}


def _refusals(entity_type: str) -> list[AuditEvent]:
    fresh()
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.action == "refused_link", AuditEvent.entity_type == entity_type)
            .order_by(AuditEvent.id)
        )
    )


def test_a_leader_invited_by_a_manager_gets_the_email_sets_a_password_and_signs_in(
    app: Flask,
    factory: Factory,
    no_csrf: None,
    smtp_server: Inbox,
    caplog: pytest.LogCaptureFixture,
) -> None:
    manager = factory.user("manager")
    db.session.commit()
    caplog.set_level(logging.DEBUG)
    response = client_for(app, manager).post(
        "/invitations",
        data={
            "email": "New.Leader@Example.org",
            "display_name": "Nia Leader",
            "role": "reader_leader",
        },
    )
    assert response.status_code == 302
    assert deliver_queued().sent == 1
    [message] = smtp_server.received
    assert message["To"] == "new.leader@example.org"
    link = _link_in(smtp_server)
    token = link.rsplit("/", 1)[1]

    visitor = app.test_client()
    page = visitor.get(link)
    assert page.status_code == 200 and "Nia Leader" in page.get_data(as_text=True)
    assert visitor.post(link, data=_set_password()).status_code == 302
    signed_in = visitor.post(
        "/sign-in", data={"email": "new.leader@example.org", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    assert visitor.get("/account").status_code == 200
    fresh()
    user = db.session.scalar(sa.select(User).where(User.email == "new.leader@example.org"))
    assert user is not None and user.role == "reader_leader"
    invitation = db.session.scalar(sa.select(Invitation))
    assert invitation.user_id == user.id and invitation.accepted_at is not None

    # The link is single-use: the second visit is refused, and audited.
    again = visitor.get(link)
    assert again.status_code == 410 and "already been used" in again.get_data(as_text=True)
    assert [e.changes for e in _refusals("invitation")] == [{"reason": "used"}]
    # The secret is in no log line and no audit value.
    assert token not in caplog.text
    trail = db.session.scalars(sa.select(AuditEvent.changes)).all()
    assert all(token not in str(changes) for changes in trail)
    assert all(invitation.token_hash not in str(changes) for changes in trail)


def test_managers_invite_only_leaders_and_partner_viewers(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    manager = factory.user("manager")
    organisation = factory.organisation()
    db.session.commit()
    client = client_for(app, manager)
    refused = client.post(
        "/invitations", data={"email": "boss@example.org", "display_name": "Boss", "role": "admin"}
    )
    assert refused.status_code == 400  # not a choice offered to a manager
    partner = client.post(
        "/invitations",
        data={
            "email": "pat@partner.example",
            "display_name": "Pat",
            "role": "partner_viewer",
            "organisation_id": str(organisation.id),
        },
    )
    assert partner.status_code == 302
    assert client_for(app, factory.user("reader_leader")).get("/invitations").status_code == 403
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 1


def test_bad_invitations_are_refused_inline_and_nothing_is_written(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    admin = factory.user("admin", email="admin@example.org")
    db.session.commit()
    client = client_for(app, admin)
    taken = client.post(
        "/invitations",
        data={"email": "admin@example.org", "display_name": "Again", "role": "manager"},
    )
    assert taken.status_code == 409
    assert "already exists" in taken.get_data(as_text=True)
    no_organisation = client.post(
        "/invitations",
        data={"email": "p@example.org", "display_name": "P", "role": "partner_viewer"},
    )
    assert no_organisation.status_code == 400
    assert "must belong to an organisation" in no_organisation.get_data(as_text=True)
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_expired_and_tampered_invitation_links_are_refused_and_audited(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    admin = factory.user("admin")
    db.session.commit()
    assert (
        client_for(app, admin)
        .post(
            "/invitations", data={"email": "x@example.org", "display_name": "X", "role": "manager"}
        )
        .status_code
        == 302
    )
    fresh()
    link = LINK.search(db.session.scalar(sa.select(OutboxMessage.body))).group(0)
    path = "/invitation/" + link.rsplit("/", 1)[1]
    visitor = app.test_client()
    assert visitor.get(path[:-3] + "abc").status_code == 404
    assert visitor.post(path + "x", data=_set_password()).status_code == 404
    invitation = db.session.scalar(sa.select(Invitation))
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = visitor.post(path, data=_set_password())
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    reasons = [e.changes["reason"] for e in _refusals("invitation")]
    assert reasons == ["unknown", "unknown", "expired"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_a_short_password_on_the_invitation_page_is_an_inline_error(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    admin = factory.user("admin")
    db.session.commit()
    client_for(app, admin).post(
        "/invitations", data={"email": "x@example.org", "display_name": "X", "role": "manager"}
    )
    fresh()
    link = LINK.search(db.session.scalar(sa.select(OutboxMessage.body))).group(0)
    path = "/invitation/" + link.rsplit("/", 1)[1]
    response = app.test_client().post(path, data=_set_password("short"))
    assert response.status_code == 400
    assert "between 10 and 200 characters" in response.get_data(as_text=True)
    fresh()
    assert db.session.scalar(sa.select(Invitation.accepted_at)) is None


# --- password reset ---------------------------------------------------------------------------


def test_a_forgotten_password_is_reset_by_link_and_every_session_ends(
    app: Flask, factory: Factory, no_csrf: None, smtp_server: Inbox
) -> None:
    user = factory.user(email="lee@example.org")
    db.session.commit()
    laptop = app.test_client()
    assert (
        laptop.post("/sign-in", data={"email": "lee@example.org", "password": PASSWORD}).status_code
        == 302
    )
    visitor = app.test_client()
    assert "Forgot your password?" in visitor.get("/sign-in").get_data(as_text=True)
    answer = visitor.post("/forgot-password", data={"email": "LEE@example.org"})
    assert answer.status_code == 200
    assert deliver_queued().sent == 1
    link = _link_in(smtp_server)
    assert visitor.post(link, data=_set_password()).status_code == 302
    # The laptop's session ended with the reset.
    assert laptop.get("/account").status_code == 302
    signed_in = visitor.post(
        "/sign-in", data={"email": "lee@example.org", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 302
    # Used once: refused the second time, and audited.
    assert visitor.get(link).status_code == 410
    assert [e.changes for e in _refusals("password_reset")] == [{"reason": "used"}]
    assert db.session.get(User, user.id).check_password(NEW_PASSWORD)


def test_the_answer_is_the_same_whether_or_not_the_email_has_an_account(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    factory.user(email="lee@example.org")
    factory.user(email="gone@example.org", active=False)
    db.session.commit()
    client = app.test_client()
    known = client.post("/forgot-password", data={"email": "lee@example.org"})
    unknown = client.post("/forgot-password", data={"email": "nobody@example.org"})
    inactive = client.post("/forgot-password", data={"email": "gone@example.org"})
    assert known.status_code == unknown.status_code == inactive.status_code == 200
    assert known.get_data() == unknown.get_data() == inactive.get_data()
    fresh()
    assert db.session.scalars(sa.select(OutboxMessage.recipient)).all() == ["lee@example.org"]
    bad = client.post("/forgot-password", data={"email": ""})
    assert bad.status_code == 400


def test_an_expired_reset_link_is_refused_and_a_new_one_spends_nothing_else(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    user = factory.user(email="lee@example.org")
    db.session.commit()
    client = app.test_client()
    client.post("/forgot-password", data={"email": "lee@example.org"})
    client.post("/forgot-password", data={"email": "lee@example.org"})
    fresh()
    first, second = (
        "/reset-password/" + LINK.search(body).group(2)
        for body in db.session.scalars(sa.select(OutboxMessage.body).order_by(OutboxMessage.id))
    )
    resets = db.session.scalars(sa.select(PasswordReset).order_by(PasswordReset.id)).all()
    resets[0].expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert client.post(first, data=_set_password()).status_code == 410
    assert client.post(second, data=_set_password()).status_code == 302
    assert [e.changes["reason"] for e in _refusals("password_reset")] == ["expired"]
    assert db.session.get(User, user.id).check_password(NEW_PASSWORD)


def test_reset_requests_are_limited_per_address_and_per_account(
    app_config: dict[str, object], tmp_path: Path, factory: Factory
) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    limited = create_app(
        dict(app_config)
        | {
            "RATELIMIT_ENABLED": True,
            "PASSWORD_RESET_RATE_LIMIT": "2 per hour",
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=str(tmp_path),
    )
    limited.test_client_class = IsolatedClient
    one = limited.test_client()
    one.environ_base["REMOTE_ADDR"] = "198.51.100.20"
    statuses = [
        one.post("/forgot-password", data={"email": f"a{n}@example.org"}).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]
    # From three addresses, the third request about one account is refused all the same.
    answers = []
    for n in range(3):
        other = limited.test_client()
        other.environ_base["REMOTE_ADDR"] = f"198.51.100.{30 + n}"
        answers.append(
            other.post("/forgot-password", data={"email": "lee@example.org"}).status_code
        )
    assert answers == [200, 200, 429]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 2


def test_link_secrets_are_scrubbed_from_log_lines() -> None:
    from readerapp.security import scrub

    line = '127.0.0.1 - - "GET /invitation/AbC-123_x HTTP/1.1" 200 and /reset-password/Zz9?x=1'
    cleaned = scrub(line)
    assert "AbC-123_x" not in cleaned and "Zz9" not in cleaned
    assert "/invitation/[redacted]" in cleaned
