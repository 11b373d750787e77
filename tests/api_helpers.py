"""Shared pieces of the API tests: a world with one API token per role."""

from __future__ import annotations

from dataclasses import dataclass, fields

from flask.testing import FlaskClient

from readerapp.api.tokens import create_token
from readerapp.extensions import db

from .world import World, build_world

API_ROLES = ("admin", "manager", "leader", "other_leader", "partner", "other_partner")


@dataclass
class ApiWorld:
    world: World
    tokens: dict[str, str]
    # The world's rows by name -> id. Tests use ids, not the ORM objects: touching an expired
    # object would open a transaction in the test's own session, and on SQLite its write lock
    # would make the requests under test wait.
    ids: dict[str, int]

    def headers(self, role: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}", **extra}


def build_api_world() -> ApiWorld:
    world = build_world()
    tokens = {role: create_token(getattr(world, role)).secret for role in API_ROLES}
    ids = {f.name: getattr(world, f.name).id for f in fields(World)}
    db.session.commit()
    return ApiWorld(world, tokens, ids)


def etag_of(client: FlaskClient, url: str, headers: dict[str, str]) -> str:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.headers["ETag"]


def is_problem(response) -> bool:  # type: ignore[no-untyped-def]
    body = response.get_json(silent=True) or {}
    return (
        response.content_type == "application/problem+json"
        and {"type", "title", "status", "detail"} <= body.keys()
        and body["status"] == response.status_code
    )


def send_change(client: FlaskClient, aw: ApiWorld, role: str, method: str, url: str, body: dict):  # type: ignore[no-untyped-def]
    """Send a change as ``role``, with its own current ETag when it can read the resource (a
    made-up one otherwise, so the answer shows the permission check, not the precondition)."""
    reading = client.get(url, headers=aw.headers(role))
    etag = reading.headers.get("ETag") if reading.status_code == 200 else '"unseen"'
    return client.open(
        url, method=method, headers=aw.headers(role, **{"If-Match": etag}), json=body
    )
