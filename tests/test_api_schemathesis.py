"""The API against its own OpenAPI document.

schemathesis generates requests from /api/v1/openapi.json (a bounded, deterministic number per
operation, valid and invalid ones) and checks every answer: no server error, a documented
status and content type, and a body that matches the documented schema. It is driven through
its Python API (pytest 9 cannot run its lazy pytest fixtures), one Hypothesis run per operation.
"""

from __future__ import annotations

import contextvars
from datetime import date

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode, Response
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from readerapp.extensions import db

from .api_helpers import ApiWorld, build_api_world

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
EXAMPLES_PER_OPERATION = 20


def valid_queries_are_accepted(ctx: object, response: Response, case: schemathesis.Case) -> None:
    """A read with parameters the document calls valid must not be refused as invalid."""
    if case.method == "GET" and response.status_code in (400, 422):
        # A cursor (``after``) is valid only as the API issued it, in a Link header; no
        # document can describe that, so refusing a made-up one is right.
        refused = (response.json().get("errors") or {}).get("query", {})
        if set(refused) == {"after"}:
            return
        raise AssertionError(f"valid query refused: {case.query} -> {response.text}")


def existing_ids(world: ApiWorld) -> dict[str, int]:
    """Path parameters naming rows that exist, so valid requests reach the views' real work."""
    from readerapp.feeds.operations import create_token
    from readerapp.outcomes.operations import load_builtin_measures
    from readerapp.workforce import operations as workforce

    token, _ = create_token("group", world.world.group)
    leader = world.world.leader
    check = workforce.add_check(
        leader,
        workforce.CheckData(
            "enhanced_dbs_barred", "001234567890", date(2026, 1, 5), date(2029, 1, 5)
        ),
    )
    training = workforce.add_training(
        leader, workforce.TrainingData("leader_training", date(2026, 1, 5))
    )
    load_builtin_measures()
    ids = world.ids
    values = {
        "organisation_id": ids["host"],
        "venue_id": ids["venue"],
        "partnership_id": world.world.group.partnerships[0].id,
        "group_id": ids["group"],
        "session_id": ids["due_session"],
        "material_id": ids["material"],
        "station_id": ids["station"],
        "programme_id": ids["programme"],
        "episode_id": ids["episode"],
        "broadcast_id": ids["broadcast"],
        "token_id": token.id,
        "participant_id": ids["participant"],
        "key": "ons4",
        "user_id": leader.id,
        "check_id": check.id,
        "training_id": training.id,
    }
    db.session.commit()
    return values


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_answer_matches_the_document(app: Flask, mode: GenerationMode) -> None:
    world = build_api_world()
    headers = world.headers("admin")
    # Valid requests name existing rows; invalid ones get whatever schemathesis makes up.
    known = existing_ids(world) if mode == GenerationMode.POSITIVE else {}
    checks = [*CHECKS, valid_queries_are_accepted] if mode == GenerationMode.POSITIVE else CHECKS
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 30

    for operation in operations:
        path_parameters = {
            p.name: known[p.name] for p in operation.path_parameters if p.name in known
        }
        strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

        @given(case=strategy)
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: schemathesis.Case) -> None:
            # A fresh context per call, as a real server has: nothing (app context, database
            # session) shared with the test or with the previous call.
            contextvars.Context().run(case.call_and_validate, headers=headers, checks=checks)

        call()
