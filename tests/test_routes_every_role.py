"""Every route in the URL map, for every role, gets exactly the status the table says."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from .route_table import ROLES, Route, expected_for
from .world import World, build_world, sign_in_as


def _all_routes() -> list[Route]:
    routes: list[Route] = []
    here = Path(__file__).resolve().parent
    for info in pkgutil.iter_modules([str(here)]):
        if info.name.startswith("routes_"):
            routes.extend(importlib.import_module(f"tests.{info.name}").ROUTES)
    return routes


ROUTES = _all_routes()


def test_every_route_in_the_url_map_has_an_entry(app: Flask) -> None:
    covered = {(r.endpoint, r.method) for r in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        methods = (rule.methods or set()) - {"HEAD", "OPTIONS"}
        if not any((rule.endpoint, m) in covered for m in methods):
            missing.append(f"{rule.endpoint} {sorted(methods)} {rule.rule}")
    assert not missing, "routes without an entry in tests/routes_*.py: " + "; ".join(missing)


@pytest.fixture
def world() -> Iterator[World]:
    yield build_world()


@pytest.fixture
def no_csrf(app: Flask) -> Iterator[None]:
    # Permission checks on POST routes; CSRF itself is tested separately.
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_each_role_gets_what_the_table_says(
    app: Flask, world: World, no_csrf: None, route: Route
) -> None:
    for role in ROLES:
        client = app.test_client()
        sign_in_as(client, world.user_for(role))
        url = route.url(world)
        if route.method == "GET":
            response = client.get(url)
        else:
            response = client.open(url, method=route.method, data=route.data(world))
        expected = expected_for(route, role)
        allowed = expected if isinstance(expected, tuple) else (expected,)
        assert response.status_code in allowed, (
            f"{role} {route.method} {url}: got {response.status_code}, expected {expected}"
        )
        assert response.status_code != 500
