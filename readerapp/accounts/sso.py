"""Single sign-on with OpenID Connect (Authlib's client): the providers in SSO_PROVIDERS.

The client sends ``state`` and ``nonce`` with the person to the provider and keeps them in the
session; Authlib checks the state, fetches the tokens, checks the id_token's signature against
the provider's published keys (JWKS) and its nonce, issuer and audience. The issuer, audience and
the email's domain are checked here again. Only an existing, active account signs in: an email
nobody invited is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
import sqlalchemy as sa
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app
from joserfc.errors import JoseError

from ..extensions import db
from ..users.models import User

EXTENSION = "readerapp.sso"
# What a provider may answer that is not a valid sign-in: a wrong state, a bad token, a
# provider that cannot be reached.
SSO_ERRORS = (OAuthError, JoseError, requests.RequestException, ValueError, KeyError)


@dataclass(frozen=True)
class Provider:
    name: str
    label: str
    issuer: str
    client_id: str
    allowed_domains: tuple[str, ...]


class SsoRefused(Exception):
    """A provider's answer that does not sign anyone in; ``reason`` goes to the audit trail."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def init_app(app: Flask) -> None:
    oauth = OAuth(app)
    for provider in app.config["SSO_PROVIDERS"]:
        oauth.register(
            name=provider["name"],
            client_id=provider["client_id"],
            client_secret=provider["client_secret"],
            server_metadata_url=provider["issuer"].rstrip("/")
            + "/.well-known/openid-configuration",
            client_kwargs={"scope": "openid email profile", "timeout": 10},
        )
    app.extensions[EXTENSION] = oauth


def providers() -> list[Provider]:
    return [
        Provider(
            p["name"],
            p["label"],
            p["issuer"],
            p["client_id"],
            tuple(d.strip().lower().lstrip("@") for d in p["allowed_domains"]),
        )
        for p in current_app.config["SSO_PROVIDERS"]
    ]


def provider(name: str) -> Provider | None:
    return next((p for p in providers() if p.name == name), None)


def client(name: str) -> Any:
    return current_app.extensions[EXTENSION].create_client(name)


def account_for(chosen: Provider, userinfo: Any) -> User:
    """The active account the provider's checked id_token names, or a refusal."""
    if not userinfo:
        raise SsoRefused("sso_token", "The sign-on answer held no identity token.")
    if str(userinfo.get("iss", "")).rstrip("/") != chosen.issuer.rstrip("/"):
        raise SsoRefused("sso_token", "The sign-on answer came from another issuer.")
    audience = userinfo.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if chosen.client_id not in audiences:
        raise SsoRefused("sso_token", "The sign-on answer was meant for another service.")
    email = str(userinfo.get("email") or "").strip().lower()
    if not email or userinfo.get("email_verified") is False:
        raise SsoRefused("sso_token", "The provider did not give a verified email address.")
    if email.rpartition("@")[2] not in chosen.allowed_domains:
        raise SsoRefused(
            "sso_domain",
            f"{chosen.label} accounts of that email domain cannot sign in here.",
        )
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is None or not user.active:
        raise SsoRefused(
            "sso_no_account",
            "There is no account here for that email. Ask an administrator for an invitation.",
        )
    return user
