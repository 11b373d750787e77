"""Signing in and out: wrong passwords, throttling, safe redirects, CSRF, password changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from readerapp import create_app
from readerapp.extensions import db
from readerapp.users.models import User

from .conftest import IsolatedClient
from .factories import PASSWORD, Factory


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def test_sign_in_and_out(app: Flask, factory: Factory, no_csrf: None) -> None:
    factory.user("reader_leader", email="lee@example.org")
    db.session.commit()
    client = app.test_client()
    response = client.post("/sign-in", data={"email": "Lee@Example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200
    assert client.post("/sign-out").status_code == 302
    assert client.get("/account").status_code == 302


def test_a_wrong_password_is_refused_inline(app: Flask, factory: Factory, no_csrf: None) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    response = app.test_client().post(
        "/sign-in", data={"email": "lee@example.org", "password": "not the password"}
    )
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)


def test_an_inactive_user_cannot_sign_in(app: Flask, factory: Factory, no_csrf: None) -> None:
    factory.user(email="gone@example.org", active=False)
    db.session.commit()
    response = app.test_client().post(
        "/sign-in", data={"email": "gone@example.org", "password": PASSWORD}
    )
    assert response.status_code == 401


def test_next_only_goes_to_this_site(app: Flask, factory: Factory, no_csrf: None) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    data = {"email": "lee@example.org", "password": PASSWORD}
    response = app.test_client().post("/sign-in?next=https://evil.example/", data=data)
    assert response.headers["Location"] == "/"
    response = app.test_client().post("/sign-in?next=/groups", data=data)
    assert response.headers["Location"] == "/groups"


def test_sign_in_needs_the_csrf_token(app: Flask, factory: Factory) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    response = app.test_client().post(
        "/sign-in", data={"email": "lee@example.org", "password": PASSWORD}
    )
    assert response.status_code == 400


def test_repeated_failures_are_throttled(
    app_config: dict[str, object], tmp_path: Path, factory: Factory
) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    throttled = create_app(
        dict(app_config)
        | {
            "RATELIMIT_ENABLED": True,
            "SIGNIN_RATE_LIMIT": "3 per minute",
            "WTF_CSRF_ENABLED": False,
        },
        instance_path=str(tmp_path),
    )
    throttled.test_client_class = IsolatedClient
    client = throttled.test_client()
    client.environ_base["REMOTE_ADDR"] = "198.51.100.9"
    bad = {"email": "lee@example.org", "password": "wrong guess"}
    statuses = [client.post("/sign-in", data=bad).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Even the right password waits until the window has passed.
    right = {"email": "lee@example.org", "password": PASSWORD}
    assert client.post("/sign-in", data=right).status_code == 429
    other = throttled.test_client()
    other.environ_base["REMOTE_ADDR"] = "198.51.100.10"
    assert other.post("/sign-in", data=right).status_code == 302


def test_changing_the_password_signs_out_other_devices(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    user = factory.user(email="lee@example.org")
    user_id = user.id
    db.session.commit()
    data = {"email": "lee@example.org", "password": PASSWORD}
    phone, laptop = app.test_client(), app.test_client()
    assert phone.post("/sign-in", data=data).status_code == 302
    assert laptop.post("/sign-in", data=data).status_code == 302
    response = phone.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "a brand new passphrase",
        },
    )
    assert response.status_code == 302
    assert phone.get("/account").status_code == 200
    assert laptop.get("/account").status_code == 302
    db.session.expire_all()
    assert db.session.get(User, user_id).check_password("a brand new passphrase")


def test_a_mismatched_new_password_is_an_inline_error(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    client = app.test_client()
    client.post("/sign-in", data={"email": "lee@example.org", "password": PASSWORD})
    response = client.post(
        "/account",
        data={
            "current_password": PASSWORD,
            "new_password": "a brand new passphrase",
            "confirm_password": "something else entirely",
        },
    )
    assert response.status_code == 400
    assert "The passwords do not match." in response.get_data(as_text=True)
