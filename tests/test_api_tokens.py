"""Personal API tokens: created and revoked on /account/api-tokens (shown once, stored hashed),
and printed by ``flask api-token create``."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.api.cli import api_token
from readerapp.extensions import db
from readerapp.users.models import ApiToken

from .factories import Factory
from .world import sign_in_as

TOKEN = re.compile(r'value="(rdr_[A-Za-z0-9_-]+)"')


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


def test_a_user_creates_a_token_shown_once_and_stored_hashed(
    client: FlaskClient, factory: Factory, no_csrf: None
) -> None:
    partner = factory.user("partner_viewer")
    db.session.commit()
    sign_in_as(client, partner)
    page = client.post("/account/api-tokens", data={"name": "Funder dashboard"})
    assert page.status_code == 200
    secret = TOKEN.search(page.get_data(as_text=True)).group(1)

    row = db.session.scalar(sa.select(ApiToken))
    assert row.name == "Funder dashboard" and row.user_id == partner.id
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret.startswith(row.prefix) and secret not in (row.prefix, row.token_hash)
    prefix = row.prefix
    db.session.commit()  # ends the test's read, which on SQLite would hold up the requests

    again = client.get("/account/api-tokens").get_data(as_text=True)
    assert secret not in again and prefix in again and "Funder dashboard" in again
    response = client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200


def test_a_user_revokes_only_their_own_tokens(
    client: FlaskClient, factory: Factory, no_csrf: None
) -> None:
    from readerapp.api.tokens import create_token

    owner, other = factory.user("reader_leader"), factory.user("manager")
    secret = create_token(owner, "Script").secret
    token_id = db.session.scalar(sa.select(ApiToken.id))
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/groups", headers=headers).status_code == 200

    sign_in_as(client, other)
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 404
    assert client.get("/api/v1/groups", headers=headers).status_code == 200

    sign_in_as(client, owner)
    response = client.post(f"/account/api-tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert client.get("/api/v1/groups", headers=headers).status_code == 401
    assert "revoked" in client.get("/account/api-tokens").get_data(as_text=True)


def test_a_name_too_long_is_refused_inline(
    client: FlaskClient, factory: Factory, no_csrf: None
) -> None:
    user = factory.user("reader_leader")
    db.session.commit()
    sign_in_as(client, user)
    page = client.post("/account/api-tokens", data={"name": "x" * 101})
    assert page.status_code == 400
    assert 'aria-invalid="true"' in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_the_token_form_needs_its_csrf_token(client: FlaskClient, factory: Factory) -> None:
    user = factory.user("reader_leader")
    db.session.commit()
    sign_in_as(client, user)
    assert client.post("/account/api-tokens", data={"name": "x"}).status_code == 400
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken)) == 0


def test_every_signed_in_user_reaches_api_tokens_from_the_account_page(
    client: FlaskClient, factory: Factory
) -> None:
    menu_link = '<a href="/account/api-tokens" aria-current="page">API tokens</a>'
    for role in ("admin", "manager", "reader_leader", "partner_viewer"):
        user = factory.user(role)
        db.session.commit()
        sign_in_as(client, user)
        account = client.get("/account").get_data(as_text=True)
        assert '<a href="/account/api-tokens">Manage your API tokens</a>' in account, role
        page = client.get("/account/api-tokens")
        assert page.status_code == 200, role
        # Reader leaders keep a short phone menu: the tokens live under their account only.
        assert (menu_link in page.get_data(as_text=True)) == (role != "reader_leader"), role


def test_the_cli_prints_a_working_token(app: Flask, client: FlaskClient, factory: Factory) -> None:
    factory.user("manager", email="mona@example.org")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(api_token, ["create", "Mona@Example.org", "--name", "CRM sync"])
    assert result.exit_code == 0, result.output
    secret = result.output.strip()
    assert db.session.scalar(sa.select(ApiToken.name)) == "CRM sync"
    db.session.commit()
    assert (
        client.get("/api/v1/groups", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )

    missing = runner.invoke(api_token, ["create", "nobody@example.org"])
    assert missing.exit_code != 0 and "no user" in missing.output
