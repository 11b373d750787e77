"""A real OpenID Connect provider for tests, on 127.0.0.1: discovery, authorization, token and
JWKS endpoints, with id_tokens signed RS256 by a key made for the run (joserfc).

It signs in whoever the test says (``signed_in_email``) without a page of its own, and can be
told to misbehave the ways a provider's answer can be wrong: another audience, another nonce,
a signature by a key it does not publish.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import Flask, abort, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from .browser_support import served

CLIENT_ID = "readerapp-test"
CLIENT_SECRET = "provider-test-secret"


@dataclass
class Provider:
    signed_in_email: str = "staff@charity.example"
    # Misbehaviour, for the refusals.
    audience: str = CLIENT_ID
    wrong_nonce: bool = False
    sign_with_unpublished_key: bool = False
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"}))
    other_key: RSAKey = field(
        default_factory=lambda: RSAKey.generate_key(2048, parameters={"kid": "k1"})
    )
    issuer: str = ""
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens_issued: int = 0

    def settings(self, domains: list[str] | None = None) -> dict[str, Any]:
        return {
            "name": "test-idp",
            "label": "Test provider",
            "issuer": self.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "allowed_domains": domains or ["charity.example"],
        }

    def id_token(self, nonce: str) -> str:
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": "user-" + self.signed_in_email,
            "aud": self.audience,
            "iat": now,
            "exp": now + 300,
            "nonce": "not-the-nonce" if self.wrong_nonce else nonce,
            "email": self.signed_in_email,
            "email_verified": True,
        }
        key = self.other_key if self.sign_with_unpublished_key else self.key
        return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def provider_app(provider: Provider) -> Flask:
    app = Flask("test_oidc_provider")

    @app.get("/.well-known/openid-configuration")
    def discovery() -> Any:
        return jsonify(
            issuer=provider.issuer,
            authorization_endpoint=f"{provider.issuer}/authorize",
            token_endpoint=f"{provider.issuer}/token",
            jwks_uri=f"{provider.issuer}/jwks",
            response_types_supported=["code"],
            subject_types_supported=["public"],
            id_token_signing_alg_values_supported=["RS256"],
            token_endpoint_auth_methods_supported=["client_secret_basic", "client_secret_post"],
        )

    @app.get("/jwks")
    def jwks() -> Any:
        return jsonify(KeySet([provider.key]).as_dict(private=False))

    @app.get("/authorize")
    def authorize() -> Any:
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("response_type") != "code":
            abort(400)
        code = secrets.token_urlsafe(16)
        provider.codes[code] = {
            "nonce": args.get("nonce", ""),
            "redirect_uri": args["redirect_uri"],
        }
        query = urlencode({"code": code, "state": args.get("state", "")})
        return redirect(f"{args['redirect_uri']}?{query}")

    @app.post("/token")
    def token() -> Any:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
        else:
            client_id, secret = request.form.get("client_id"), request.form.get("client_secret")
        if (client_id, secret) != (CLIENT_ID, CLIENT_SECRET):
            return jsonify(error="invalid_client"), 401
        grant = provider.codes.pop(request.form.get("code", ""), None)
        if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return jsonify(error="invalid_grant"), 400
        provider.tokens_issued += 1
        return jsonify(
            access_token=secrets.token_urlsafe(16),
            token_type="Bearer",
            expires_in=300,
            id_token=provider.id_token(grant["nonce"]),
        )

    return app


@contextmanager
def running_provider() -> Iterator[Provider]:
    provider = Provider()
    with served(provider_app(provider)) as url:
        provider.issuer = url
        yield provider
