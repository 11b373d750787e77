"""Sign-ins kept on the server: listed, ended everywhere, ended by changes to the account, and
"keep me signed in" bounded by a setting."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.timeutil import utcnow
from readerapp.users.models import SignIn

from . import groups_support
from .factories import PASSWORD, Factory
from .groups_support import fresh
from .world import client_for

no_csrf = groups_support.no_csrf


def _sign_in(app: Flask, email: str, remember: bool = False, agent: str = "Phone"):  # type: ignore[no-untyped-def]
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = agent
    data = {"email": email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert client.post("/sign-in", data=data).status_code == 302
    return client


def test_keep_me_signed_in_lasts_the_configured_days_and_no_longer(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    app.config["SIGN_IN_REMEMBER_DAYS"] = 3
    try:
        phone = _sign_in(app, "lee@example.org", remember=True)
    finally:
        app.config["SIGN_IN_REMEMBER_DAYS"] = 30
    cookie = phone.get_cookie("remember_token")
    assert cookie is not None and cookie.expires is not None
    assert timedelta(days=2, hours=23) < cookie.expires - utcnow() <= timedelta(days=3)
    fresh()
    record = db.session.scalar(sa.select(SignIn))
    assert record.remember and record.expires_at - record.created_at == timedelta(days=3)

    # The browser closed: only the remember cookie is left, and it still signs in...
    later = app.test_client()
    later.set_cookie("remember_token", cookie.value)
    assert later.get("/account").status_code == 200
    # ...until the sign-in's days are over, whatever the cookie says.
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    again = app.test_client()
    again.set_cookie("remember_token", cookie.value)
    assert again.get("/account").status_code == 302
    assert phone.get("/account").status_code == 302


def test_a_person_sees_their_sign_ins_and_signs_out_everywhere(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    factory.user(email="lee@example.org")
    other = factory.user(email="sam@example.org")
    db.session.commit()
    phone = _sign_in(app, "lee@example.org", agent="Phone browser")
    laptop = _sign_in(app, "lee@example.org", agent="Laptop browser")
    someone_else = client_for(app, other)
    page = phone.get("/account/sign-ins").get_data(as_text=True)
    assert "Phone browser" in page and "Laptop browser" in page and "test client" not in page
    assert page.count("this device") == 1
    assert phone.post("/account/sign-out-everywhere").status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    assert someone_else.get("/account").status_code == 200
    fresh()
    ended = db.session.scalars(sa.select(SignIn.ended_at).where(SignIn.user_id != other.id))
    assert all(at is not None for at in ended)


def test_signing_out_ends_only_this_sign_in(app: Flask, factory: Factory, no_csrf: None) -> None:
    factory.user(email="lee@example.org")
    db.session.commit()
    phone = _sign_in(app, "lee@example.org")
    laptop = _sign_in(app, "lee@example.org")
    assert phone.post("/sign-out").status_code == 302
    assert phone.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 200


def test_a_role_change_signs_the_person_out_everywhere(
    app: Flask, factory: Factory, no_csrf: None
) -> None:
    admin = factory.user("admin")
    leader = factory.user(email="lee@example.org", display_name="Lee Leader")
    db.session.commit()
    phone = _sign_in(app, "lee@example.org")
    admin_client = client_for(app, admin)
    same_role = {"display_name": "Lee L", "role": "reader_leader", "organisation_id": ""}
    assert admin_client.post(f"/admin/users/{leader.id}/edit", data=same_role).status_code == 302
    assert phone.get("/account").status_code == 200  # a new name alone changes nothing
    new_role = same_role | {"role": "manager"}
    assert admin_client.post(f"/admin/users/{leader.id}/edit", data=new_role).status_code == 302
    assert phone.get("/account").status_code == 302
    assert admin_client.get("/admin/users").status_code == 200
