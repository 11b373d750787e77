"""No participant's name, note or code reaches anyone not allowed to see it: every GET route in
the app (from the route tables, so new routes are covered as they are added), as every role,
searching each response and every log line. Where a name is shown, the showing is audited."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp import create_app
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db

from .audit_support import deferred_reads, live_logs, response_text  # noqa: F401
from .route_table import ROLES, Route
from .test_routes_every_role import ROUTES
from .world import (
    SECRET_CODE,
    SECRET_CONCERN,
    SECRET_CONCERN_ACTION,
    SECRET_NAME,
    SECRET_NOTE,
    World,
    build_world,
    sign_in_as,
)

GET_ROUTES = [r for r in ROUTES if r.method == "GET"]

# Who must never see which secret. Session notes are free text that staff and the group's own
# leaders may read, so the note is only forbidden to those outside the charity. A safeguarding
# concern is read by the designated safeguarding lead alone: not the admin, not the manager,
# not even the leader who raised it.
CONCERN = (SECRET_CONCERN, SECRET_CONCERN_ACTION)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "anonymous": (SECRET_NAME, SECRET_NOTE, SECRET_CODE, *CONCERN),
    "partner": (SECRET_NAME, SECRET_NOTE, SECRET_CODE, *CONCERN),
    "other_partner": (SECRET_NAME, SECRET_NOTE, SECRET_CODE, *CONCERN),
    "other_leader": (SECRET_NAME, SECRET_NOTE, SECRET_CODE, *CONCERN),
    "manager": (SECRET_NAME, *CONCERN),
    "admin": CONCERN,
    "leader": CONCERN,
    "dsl": (SECRET_NAME,),
}
# Roles that may see the name, but only with an audit entry for each showing.
NAME_VIEWERS = ("admin", "leader")


def _name_views(participant_id: int) -> int:
    db.session.rollback()  # a fresh snapshot: requests commit on their own connections
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "view_name",
            AuditEvent.entity_type == "participant",
            AuditEvent.entity_id == str(participant_id),
        )
    )


def _concern_reads(concern_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "view_concern",
            AuditEvent.entity_type == "concern",
            AuditEvent.entity_id == str(concern_id),
        )
    )


def test_every_role_is_covered() -> None:
    assert set(FORBIDDEN) == set(ROLES)


def _leaks_of(app: Flask, route: Route, world: World, participant_id: int) -> list[str]:
    leaks = []
    for role in ROLES:
        client = app.test_client()
        sign_in_as(client, world.user_for(role))
        url = route.url(world)
        join = "&" if "?" in url else "?"
        # The participants pages show names only when asked: ask too.
        asks = (
            (f"{join}show=name", f"{join}names=y") if route.endpoint.startswith("privacy.") else ()
        )
        for query in ("", *asks):
            db.session.commit()  # the test holds no transaction (nor lock) during the request
            views_before = _name_views(participant_id)
            reads_before = _concern_reads(world.concern.id)
            body = response_text(client.get(url + query).get_data())
            for secret in FORBIDDEN[role]:
                if secret in body:
                    leaks.append(f"{role} GET {url}{query} shows {secret!r}")
            shown = role in NAME_VIEWERS and SECRET_NAME in body
            if shown and _name_views(participant_id) <= views_before:
                leaks.append(f"{role} GET {url}{query} shows the name without an audit entry")
            if SECRET_CONCERN in body and _concern_reads(world.concern.id) <= reads_before:
                leaks.append(f"{role} GET {url}{query} shows a concern without an audit entry")
    return leaks


@pytest.mark.usefixtures("deferred_reads", "live_logs")
def test_no_participant_data_where_it_must_not_be(
    app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    world = build_world()
    participant_id = world.participant.id
    leaks = []
    for route in GET_ROUTES:
        leaks += _leaks_of(app, route, world, participant_id)
    for record in caplog.records:
        message = record.getMessage()
        for secret in (SECRET_NAME, SECRET_NOTE, SECRET_CODE, *CONCERN):
            if secret in message:
                leaks.append(f"log line from {record.name} carries {secret!r}")
    assert not leaks, "\n".join(leaks)


@pytest.mark.usefixtures("live_logs")
def test_error_pages_and_logs_never_carry_request_data(
    app_config: dict[str, object], caplog: pytest.LogCaptureFixture, tmp_path
) -> None:
    """An unexpected error whose message holds a name: the page and the log show neither."""
    crashing = create_app(dict(app_config), instance_path=str(tmp_path))

    @crashing.get("/crash-with-personal-data")
    def crash() -> str:
        raise ValueError(f"cannot register {SECRET_NAME} ({SECRET_CODE}): {SECRET_NOTE}")

    caplog.set_level(logging.DEBUG)
    with crashing.app_context():
        response = crashing.test_client().get(
            f"/crash-with-personal-data?name={SECRET_NAME}&code={SECRET_CODE}"
        )
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "ValueError" in logged  # the error is logged...
    for secret in (SECRET_NAME, SECRET_NOTE, SECRET_CODE):
        assert secret not in body  # ...but neither the page
        assert secret not in logged  # nor the log line carries what was in it
