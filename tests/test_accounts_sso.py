"""Single sign-on against a real OpenID Connect provider started by the test on 127.0.0.1
(tests/oidc_provider.py): existing accounts sign in; every wrong answer is refused, audited,
and signs nobody in."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest
import requests
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.audit.models import AuditEvent
from readerapp.config import ConfigError
from readerapp.extensions import db
from readerapp.users.models import SignIn

from .conftest import IsolatedClient
from .factories import Factory
from .groups_support import fresh
from .oidc_provider import Provider, running_provider


@pytest.fixture
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_app(app_config: dict[str, object], tmp_path: Path, provider: Provider) -> Flask:
    application = create_app(
        dict(app_config) | {"SSO_PROVIDERS": [provider.settings()]}, instance_path=str(tmp_path)
    )
    application.test_client_class = IsolatedClient
    return application


def _to_provider_and_back(client, tamper_state: bool = False):  # type: ignore[no-untyped-def]
    start = client.get("/sign-in/sso/test-idp")
    assert start.status_code == 302
    # The person's browser at the provider, which sends them back with a code.
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = urlsplit(answer.headers["Location"])
    query = dict(parse_qsl(back.query))
    if tamper_state:
        query["state"] = "a-state-this-browser-never-sent"
    return client.get(f"{back.path}?{urlencode(query)}")


def _refusals() -> list[dict[str, str]]:
    fresh()
    return list(
        db.session.scalars(
            sa.select(AuditEvent.changes)
            .where(AuditEvent.action == "refused_sign_in")
            .order_by(AuditEvent.id)
        )
    )


def test_a_staff_member_signs_in_through_the_provider(
    sso_app: Flask, provider: Provider, factory: Factory
) -> None:
    leader = factory.user(email="staff@charity.example")
    db.session.commit()
    client = sso_app.test_client()
    assert "Sign in with Test provider" in client.get("/sign-in").get_data(as_text=True)
    response = _to_provider_and_back(client)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert client.get("/account").status_code == 200
    assert provider.tokens_issued == 1
    fresh()
    assert db.session.scalar(sa.select(SignIn.user_id)) == leader.id
    assert _refusals() == []


def test_a_manager_still_gives_a_second_factor_after_the_provider(
    sso_app: Flask, provider: Provider, factory: Factory
) -> None:
    factory.user("manager", email="staff@charity.example")
    db.session.commit()
    client = sso_app.test_client()
    response = _to_provider_and_back(client)
    assert response.headers["Location"] == "/sign-in/set-up-two-factor"
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    ("misbehaviour", "status", "reason", "words"),
    [
        ("state", 400, "sso_state", "not for this browser"),
        ("nonce", 400, "sso_token", "could not be trusted"),
        ("audience", 400, "sso_token", "could not be trusted"),
        ("signature", 400, "sso_token", "could not be trusted"),
        ("domain", 403, "sso_domain", "cannot sign in here"),
        ("no_account", 403, "sso_no_account", "Ask an administrator for an invitation"),
    ],
)
def test_a_wrong_answer_signs_nobody_in(
    sso_app: Flask,
    provider: Provider,
    factory: Factory,
    misbehaviour: str,
    status: int,
    reason: str,
    words: str,
) -> None:
    factory.user(email="staff@charity.example")
    factory.user(email="staff@elsewhere.example")
    db.session.commit()
    if misbehaviour == "nonce":
        provider.wrong_nonce = True
    elif misbehaviour == "audience":
        provider.audience = "another-service"
    elif misbehaviour == "signature":
        provider.sign_with_unpublished_key = True
    elif misbehaviour == "domain":
        provider.signed_in_email = "staff@elsewhere.example"
    elif misbehaviour == "no_account":
        provider.signed_in_email = "stranger@charity.example"
    client = sso_app.test_client()
    response = _to_provider_and_back(client, tamper_state=misbehaviour == "state")
    assert response.status_code == status
    assert words in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302
    assert _refusals() == [{"reason": reason, "provider": "test-idp"}]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SignIn)) == 0


def test_an_unknown_provider_is_not_found(sso_app: Flask) -> None:
    assert sso_app.test_client().get("/sign-in/sso/nobody").status_code == 404
    assert sso_app.test_client().get("/sign-in/sso/nobody/callback").status_code == 404


def test_provider_settings_are_checked_at_start(
    app_config: dict[str, object], tmp_path: Path, provider: Provider
) -> None:
    bad = provider.settings() | {"allowed_domains": []}
    with pytest.raises(ConfigError, match="allowed_domains"):
        create_app(dict(app_config) | {"SSO_PROVIDERS": [bad]}, instance_path=str(tmp_path))
