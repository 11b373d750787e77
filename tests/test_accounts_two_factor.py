"""Two-factor sign-in: forced set-up for the chosen roles, codes, replays, recovery codes, limits
on wrong codes, and an admin's reset."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pyotp
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.timeutil import utcnow
from readerapp.users.models import RecoveryCode, User
from readerapp.users.two_factor import enable

from . import groups_support
from .conftest import IsolatedClient
from .factories import PASSWORD, Factory
from .groups_support import fresh
from .world import client_for

no_csrf = groups_support.no_csrf
SECRET = re.compile(r'id="totp-secret">([A-Z2-7]+)<')


def _password(client, email: str):  # type: ignore[no-untyped-def]
    return client.post("/sign-in", data={"email": email, "password": PASSWORD})


def _refusals() -> list[str]:
    fresh()
    return [
        changes["reason"]
        for changes in db.session.scalars(
            sa.select(AuditEvent.changes)
            .where(AuditEvent.action == "refused_sign_in")
            .order_by(AuditEvent.id)
        )
    ]


def _with_two_factor(factory: Factory, role: str, email: str) -> tuple[User, str, list[str]]:
    user = factory.user(role, email=email)
    secret = pyotp.random_base32()
    at_setup = pyotp.TOTP(secret).at(utcnow() - timedelta(seconds=30))
    user.totp_last_step = None
    codes = enable(user, secret, at_setup)
    assert codes is not None
    db.session.commit()
    return user, secret, codes


def test_a_manager_sets_up_two_factor_at_first_sign_in_then_signs_in_with_a_code(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    factory.user("manager", email="mo@example.org")
    db.session.commit()
    client = app.test_client()
    response = _password(client, "mo@example.org")
    assert response.headers["Location"] == "/sign-in/set-up-two-factor"
    assert client.get("/account").status_code == 302  # not signed in yet
    page = client.get("/sign-in/set-up-two-factor").get_data(as_text=True)
    assert 'src="data:image/svg+xml' in page  # the QR code is made here, by no other service
    secret = SECRET.search(page).group(1)
    wrong = client.post("/sign-in/set-up-two-factor", data={"code": "000000"})
    assert wrong.status_code == 401 and "not right" in wrong.get_data(as_text=True)
    code = pyotp.TOTP(secret).now()
    done = client.post("/sign-in/set-up-two-factor", data={"code": code})
    assert done.status_code == 200
    shown = re.findall(
        r"<li><code>([0-9a-f]{6}-[0-9a-f]{6})</code></li>", done.get_data(as_text=True)
    )
    assert len(set(shown)) == 10
    assert client.get("/account").status_code == 200
    fresh()
    stored = db.session.scalars(sa.select(RecoveryCode.code_hash)).all()
    assert len(stored) == 10 and not set(shown) & set(stored)
    assert client.get("/sign-in/set-up-two-factor").status_code == 302

    # The next sign-in asks for a code; the code already used is refused within its step.
    laptop = app.test_client()
    assert _password(laptop, "mo@example.org").headers["Location"] == "/sign-in/code"
    replayed = laptop.post("/sign-in/code", data={"code": code})
    assert replayed.status_code == 401 and "used already" in replayed.get_data(as_text=True)
    assert laptop.get("/account").status_code == 302
    next_code = pyotp.TOTP(secret).at(utcnow() + timedelta(seconds=30))
    assert laptop.post("/sign-in/code", data={"code": next_code}).status_code == 302
    assert laptop.get("/account").status_code == 200
    assert _refusals() == ["wrong_code", "replayed_code"]


def test_a_recovery_code_signs_in_once(app: Flask, factory: Factory, no_csrf: None) -> None:
    _with_two_factor(factory, "admin", "ada@example.org")
    user, _, codes = _with_two_factor(factory, "reader_leader", "lee@example.org")
    one = app.test_client()
    _password(one, "lee@example.org")
    assert one.post("/sign-in/code", data={"code": codes[3].upper()}).status_code == 302
    assert one.get("/account").status_code == 200
    two = app.test_client()
    _password(two, "lee@example.org")
    assert two.post("/sign-in/code", data={"code": codes[3]}).status_code == 401
    assert _refusals() == ["wrong_code"]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        == 9
    )


def test_a_reader_leader_signs_in_without_and_may_turn_it_on(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    leader = factory.user(email="lee@example.org")
    db.session.commit()
    client = app.test_client()
    assert _password(client, "lee@example.org").headers["Location"] == "/"
    page = client.get("/account/two-factor").get_data(as_text=True)
    secret = SECRET.search(page).group(1)
    assert client.post("/account/two-factor", data={"code": "12"}).status_code == 401
    on = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert on.status_code == 200 and "shown only now" in on.get_data(as_text=True)
    assert "10 unused recovery codes" in client.get("/account/two-factor").get_data(as_text=True)
    fresh()
    assert db.session.get(User, leader.id).totp_enabled_at is not None


def test_wrong_codes_are_limited_per_account_across_addresses(
    app_config: dict[str, object], tmp_path: Path, factory: Factory
) -> None:
    _, secret, _ = _with_two_factor(factory, "manager", "mo@example.org")
    limited = create_app(
        dict(app_config)
        | {
            "RATELIMIT_ENABLED": True,
            "TWO_FACTOR_RATE_LIMIT": "2 per 5 minutes",
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=str(tmp_path),
    )
    limited.test_client_class = IsolatedClient
    statuses = []
    for n in range(3):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{40 + n}"
        _password(client, "mo@example.org")
        statuses.append(client.post("/sign-in/code", data={"code": "123456"}).status_code)
    assert statuses == [401, 401, 429]
    # Even the right code waits for the window to pass.
    right = pyotp.TOTP(secret).now()
    assert client.post("/sign-in/code", data={"code": right}).status_code == 429


def test_an_admin_resets_a_second_factor_and_the_trail_says_so(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    admin = factory.user("admin")
    admin.totp_enabled_at = utcnow()  # set up already (not used by the signed-in client)
    manager, _, _ = _with_two_factor(factory, "manager", "mo@example.org")
    client = client_for(app, admin)
    assert "Reset two-factor sign-in" in client.get(f"/admin/users/{manager.id}/edit").get_data(
        as_text=True
    )
    assert client.post(f"/admin/users/{manager.id}/reset-two-factor").status_code == 302
    fresh()
    reset = db.session.get(User, manager.id)
    assert reset.totp_secret is None and reset.totp_enabled_at is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode)) == 0
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_id == str(manager.id))
    ).all()
    assert "reset_two_factor" in [e.action for e in events]
    changed = [e.changes for e in events if e.action == "update"][-1]
    assert changed["totp_secret"] == ["[redacted]", None]
    # At the next sign-in they set it up again.
    assert _password(app.test_client(), "mo@example.org").headers["Location"] == (
        "/sign-in/set-up-two-factor"
    )
    assert (
        client_for(app, manager).post(f"/admin/users/{admin.id}/reset-two-factor").status_code
        == 403
    )
