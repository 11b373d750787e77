"""The API's common behaviour: authentication, problem+json errors, validation, pagination,
ETag / If-Match, the OpenAPI document and the docs page."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.errors import FieldError
from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.groups.operations import GroupError
from readerapp.privacy.operations import PrivacyError
from readerapp.sessions.models import ReadingSession
from readerapp.users.models import ApiToken
from readerapp.users.operations import UserError

from .api_helpers import ApiWorld, build_api_world, etag_of, is_problem
from .factories import Factory
from .world import sign_in_as


@pytest.fixture
def aw() -> ApiWorld:
    return build_api_world()


# --- Authentication -------------------------------------------------------------------------------


def test_without_a_token_every_resource_answers_401_problem(client: FlaskClient) -> None:
    response = client.get("/api/v1/sessions")
    assert response.status_code == 401
    assert is_problem(response)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header", ["Bearer rdr_not-a-real-token", "Bearer ", "Basic YWRtaW46YWRtaW4=", "rdr_x"]
)
def test_a_wrong_token_or_scheme_answers_401(
    client: FlaskClient, aw: ApiWorld, header: str
) -> None:
    response = client.get("/api/v1/groups", headers={"Authorization": header})
    assert response.status_code == 401 and is_problem(response)


def test_a_revoked_token_or_inactive_user_stops_working(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("manager")
    assert client.get("/api/v1/groups", headers=headers).status_code == 200
    token = db.session.scalar(sa.select(ApiToken).where(ApiToken.user_id == aw.ids["manager"]))
    assert token is not None and token.last_used_at is not None
    token.revoked_at = token.last_used_at + timedelta(seconds=1)
    db.session.commit()
    assert client.get("/api/v1/groups", headers=headers).status_code == 401

    leader_headers = aw.headers("leader")
    aw.world.leader.active = False
    db.session.commit()
    assert client.get("/api/v1/groups", headers=leader_headers).status_code == 401


def test_a_session_cookie_never_authorises_the_api(
    app: Flask, client: FlaskClient, aw: ApiWorld
) -> None:
    sign_in_as(client, aw.world.admin)
    assert client.get("/api/v1/groups").status_code == 401
    url = f"/api/v1/sessions/{aw.ids['future_session']}"
    response = client.patch(
        url,
        json={"status": "cancelled", "cancellation_reason": "Cookie says so"},
        headers={"If-Match": "*"},
    )
    assert response.status_code == 401
    assert db.session.get(ReadingSession, aw.ids["future_session"]).status == "scheduled"


def test_the_token_is_the_user_even_with_another_users_cookie(
    client: FlaskClient, aw: ApiWorld
) -> None:
    sign_in_as(client, aw.world.admin)  # the cookie is the admin's; the token a partner's
    response = client.get("/api/v1/feed-tokens", headers=aw.headers("partner"))
    assert response.status_code == 403


# --- Errors ---------------------------------------------------------------------------------------


def test_unknown_urls_and_methods_under_the_api_are_problems(
    client: FlaskClient, aw: ApiWorld
) -> None:
    headers = aw.headers("admin")
    for url in ("/api/v1/nothing-here", "/api/v2/sessions", "/api/"):
        response = client.get(url, headers=headers)
        assert response.status_code == 404 and is_problem(response), url
    response = client.delete("/api/v1/sessions", headers=headers)
    assert response.status_code == 405 and is_problem(response)
    assert "GET" in response.headers["Allow"]
    assert client.get("/api/v1/sessions/99999", headers=headers).status_code == 404


def test_a_server_error_is_a_problem_without_details(
    client: FlaskClient, aw: ApiWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from readerapp.api import sessions

    def broken(args: dict) -> None:
        raise RuntimeError("secret internals: /srv/readerapp/db.py line 12")

    monkeypatch.setattr(sessions, "session_query", broken)
    response = client.get("/api/v1/sessions", headers=aw.headers("admin"))
    assert response.status_code == 500 and is_problem(response)
    text = response.get_data(as_text=True)
    assert "secret internals" not in text and "Traceback" not in text


def test_site_pages_keep_their_html_error_pages(client: FlaskClient) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.content_type.startswith("text/html")


def test_validation_errors_name_each_field(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("admin")
    response = client.get("/api/v1/sessions?status=maybe&from=2026-02-30", headers=headers)
    assert response.status_code == 422 and is_problem(response)
    errors = response.get_json()["errors"]["query"]
    assert set(errors) == {"status", "from"}

    response = client.post(
        "/api/v1/groups",
        headers=headers,
        json={"name": "", "venue_id": "one", "colour": "blue", "duration_minutes": 0},
    )
    assert response.status_code == 422 and is_problem(response)
    fields = response.get_json()["errors"]["json"]
    assert fields["colour"] == ["Unknown field."]  # unknown fields are refused
    assert {"name", "venue_id", "duration_minutes", "rrule", "start_time"} <= fields.keys()


def test_a_body_that_is_not_json_is_a_400_problem(client: FlaskClient, aw: ApiWorld) -> None:
    response = client.post(
        "/api/v1/groups", headers=aw.headers("admin"), data="{oops", content_type="application/json"
    )
    assert response.status_code == 400 and is_problem(response)
    assert response.get_json()["errors"] == {"json": {"_schema": ["Invalid JSON body."]}}


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000,
        '{"a":' * 100_000,
        "[" * 33 + "]" * 33,
        '{"name": ' + "[" * 40 + "]" * 40 + "}",
    ],
    ids=["unclosed-lists", "unclosed-objects", "33-levels", "nested-in-a-field"],
)
def test_a_deeply_nested_body_is_a_400_problem(
    client: FlaskClient, aw: ApiWorld, body: str
) -> None:
    before = db.session.scalar(sa.select(sa.func.count(ReadingGroup.id)))
    response = client.post(
        "/api/v1/groups", headers=aw.headers("admin"), data=body, content_type="application/json"
    )
    assert response.status_code == 400 and is_problem(response)
    assert "nests more than 32 levels" in response.get_json()["detail"]
    assert db.session.scalar(sa.select(sa.func.count(ReadingGroup.id))) == before


def test_a_body_nested_a_few_levels_is_validated_as_usual(
    client: FlaskClient, aw: ApiWorld
) -> None:
    body = json.dumps({"name": [[["x"]]]})
    response = client.post(
        "/api/v1/groups", headers=aw.headers("admin"), data=body, content_type="application/json"
    )
    assert response.status_code == 422 and is_problem(response)


def test_an_oversized_body_is_a_413_problem_naming_the_limit(
    app: Flask, client: FlaskClient, aw: ApiWorld
) -> None:
    limit = app.config["API_MAX_BODY_BYTES"]
    body = json.dumps({"name": "x" * limit})
    response = client.post(
        "/api/v1/groups", headers=aw.headers("admin"), data=body, content_type="application/json"
    )
    assert response.status_code == 413 and is_problem(response)
    assert f"{limit} bytes" in response.get_json()["detail"]


def test_datetimes_need_an_offset(client: FlaskClient, aw: ApiWorld) -> None:
    url = f"/api/v1/sessions/{aw.ids['future_session']}"
    headers = aw.headers("admin", **{"If-Match": etag_of(client, url, aw.headers("admin"))})
    for naive in ("2026-12-30T10:00:00", "2026-12-30", "2027-10-31T01:30:00"):
        response = client.patch(url, headers=headers, json={"start_dt": naive})
        assert response.status_code == 422, naive
        assert response.get_json()["errors"]["json"]["start_dt"] == [
            "Give the date and time with its offset, e.g. 2026-03-03T10:30:00+00:00: "
            "without one the instant is not known."
        ]
    body = {"episode_id": aw.ids["episode"], "air_dt": "2027-10-31T01:30:00"}
    response = client.post("/api/v1/broadcasts", headers=aw.headers("manager"), json=body)
    assert (
        response.status_code == 422
        and "offset" in response.get_json()["errors"]["json"]["air_dt"][0]
    )


@pytest.mark.parametrize("name", ["localtime", "posixrules", "Factory", "Mars/Olympus"])
def test_a_zone_must_be_a_place_not_the_hosts_clock(
    client: FlaskClient, aw: ApiWorld, name: str
) -> None:
    headers = aw.headers("manager")
    air_dt = "2027-06-01T11:00:00+00:00"
    body = {"episode_id": aw.ids["episode"], "air_dt": air_dt, "tz_name": name}
    response = client.post("/api/v1/broadcasts", headers=headers, json=body)
    assert response.status_code == 422 and is_problem(response)
    assert "tz_name" in response.get_json()["errors"]["json"]
    group = client.get(f"/api/v1/groups/{aw.ids['group']}", headers=headers)
    response = client.patch(
        f"/api/v1/groups/{aw.ids['group']}",
        headers={**headers, "If-Match": group.headers["ETag"]},
        json={"tz_name": name},
    )
    assert response.status_code == 422 and is_problem(response)
    assert "tz_name" in response.get_json()["errors"]["json"]


def test_a_rule_the_operation_refuses_is_a_422_on_its_field(
    client: FlaskClient, aw: ApiWorld
) -> None:
    # The future session has not started: it cannot be logged as delivered.
    url = f"/api/v1/sessions/{aw.ids['future_session']}/attendance"
    headers = aw.headers("leader", **{"If-Match": etag_of(client, url, aw.headers("leader"))})
    response = client.put(url, headers=headers, json={"participants": 3})
    assert response.status_code == 422 and is_problem(response)
    assert "status" in response.get_json()["errors"]["json"]
    # Nothing half-written.
    assert client.get(url, headers=aw.headers("leader")).get_json()["logged"] is False


def test_an_overlapping_broadcast_is_a_409(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("manager")
    existing = client.get(f"/api/v1/broadcasts/{aw.ids['broadcast']}", headers=headers).get_json()
    response = client.post(
        "/api/v1/broadcasts",
        headers=headers,
        json={"episode_id": aw.ids["episode"], "air_dt": existing["air_dt"]},
    )
    assert response.status_code == 409 and is_problem(response)
    assert "overlaps" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("make_error", "status"),
    [
        (lambda: PrivacyError("this participant's data has already been erased"), 422),
        (lambda: UserError("the display name must be 1 to 120 characters", "display_name"), 422),
        (lambda: UserError("a user with email a@example.org already exists", "email"), 422),
        (lambda: GroupError("This name is taken.", "name", conflict=True), 409),
        (lambda: FieldError("A rule no domain has a class for."), 422),
    ],
)
def test_any_domain_error_is_a_problem_on_its_field_never_a_500(
    client: FlaskClient,
    aw: ApiWorld,
    monkeypatch: pytest.MonkeyPatch,
    make_error: Callable[[], FieldError],
    status: int,
) -> None:
    # Errors of domains the API has no resource for (privacy, users) answer like the others:
    # every FieldError is mapped once, by its base class.
    from readerapp.api import sessions

    error = make_error()

    def refuse(args: dict) -> None:
        raise error

    monkeypatch.setattr(sessions, "session_query", refuse)
    response = client.get("/api/v1/sessions", headers=aw.headers("admin"))
    assert response.status_code == status and is_problem(response)
    body = response.get_json()
    assert body["detail"] == error.message
    if error.field:
        assert body["errors"]["json"] == {error.field: [error.message]}
    else:
        assert "errors" not in body


# --- Pagination -----------------------------------------------------------------------------------


def test_lists_are_paginated_with_page_and_per_page(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("admin")
    first = client.get("/api/v1/sessions?per_page=3", headers=headers)
    second = client.get("/api/v1/sessions?per_page=3&page=2", headers=headers)
    assert len(first.get_json()) == 3 and len(second.get_json()) == 1
    meta = json.loads(first.headers["X-Pagination"])
    assert meta == {
        "total": 4,
        "total_pages": 2,
        "first_page": 1,
        "last_page": 2,
        "page": 1,
        "next_page": 2,
    }
    assert json.loads(second.headers["X-Pagination"])["previous_page"] == 1
    ids = [s["id"] for s in first.get_json() + second.get_json()]
    assert len(set(ids)) == 4
    starts = [s["start_dt"] for s in first.get_json() + second.get_json()]
    assert starts == sorted(starts)
    for bad in ("per_page=0", "per_page=101", "page=0", "page=x"):
        response = client.get(f"/api/v1/sessions?{bad}", headers=headers)
        assert response.status_code == 422 and is_problem(response), bad


def test_the_session_list_can_be_walked_by_cursor(
    client: FlaskClient, aw: ApiWorld, factory: Factory
) -> None:
    group = db.session.get(ReadingGroup, aw.ids["group"])
    # Two sessions of different groups at one instant: the cursor breaks the tie by id.
    twin = db.session.get(ReadingSession, aw.ids["future_session"]).start_dt
    other = db.session.get(ReadingGroup, aw.ids["other_group"])
    factory.session(other, start_dt=twin)
    for week in range(1, 6):
        factory.session(group, start_dt=twin + timedelta(weeks=week))
    db.session.commit()
    headers = aw.headers("admin")
    by_page = [s["id"] for s in client.get("/api/v1/sessions?per_page=100", headers=headers).json]
    assert len(by_page) == 10
    walked, url, pages = [], "/api/v1/sessions?per_page=3", 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert json.loads(response.headers["X-Pagination"])["total"] == 10
        walked += [s["id"] for s in response.get_json()]
        link = response.headers.get("Link")
        url = link[link.index("<") + 1 : link.index(">")] if link else None
        if url:
            assert 'rel="next"' in link and "?page=" not in url and "&page=" not in url
            assert "per_page=3" in url
        pages += 1
    assert walked == by_page and pages == 4
    # Filters hold across pages; a cursor skips ahead, whatever page says.
    first = client.get(f"/api/v1/sessions?per_page=2&group_id={group.id}", headers=headers)
    link = first.headers["Link"]
    url = link[link.index("<") + 1 : link.index(">")]
    assert f"group_id={group.id}" in url
    rest = client.get(url + "&page=9", headers=headers).get_json()
    assert {s["group_id"] for s in rest} == {group.id} and len(rest) == 2
    for bad in ("nonsense", "bm9wZQ", "MjAyNi0wMS0wMXwx", "x" * 300):
        response = client.get(f"/api/v1/sessions?after={bad}", headers=headers)
        assert response.status_code == 422 and is_problem(response), bad
        assert "after" in response.get_json()["errors"]["query"]


def test_session_filters(client: FlaskClient, aw: ApiWorld) -> None:
    i = aw.ids
    headers = aw.headers("admin")

    def ids(query: str) -> set[int]:
        response = client.get(f"/api/v1/sessions?{query}", headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        return {s["id"] for s in response.get_json()}

    assert ids(f"group_id={i['other_group']}") == {i["other_session"]}
    assert ids(f"organisation_id={i['host']}") == {
        i["past_session"],
        i["due_session"],
        i["future_session"],
    }
    assert ids("status=delivered") == {i["past_session"]}
    assert ids(f"leader_id={i['other_leader']}") == {i["other_session"]}
    future = client.get(f"/api/v1/sessions/{i['future_session']}", headers=headers).get_json()
    day = future["start_dt"][:10]
    assert i["future_session"] in ids(f"from={day}&to={day}")
    assert ids(f"from={day}&to={day}") <= {i["future_session"], i["other_session"]}
    assert ids("from=2026-02-02&to=2026-02-01") == set()
    assert ids("from=0001-01-01&to=9999-12-31") == set(i[k] for k in i if k.endswith("session"))


def test_sessions_say_their_state_and_counts_add_up(client: FlaskClient, aw: ApiWorld) -> None:
    """The stored status says "scheduled" for both the overdue and the future session; the state,
    the state filter and the counts tell them apart, as the report and exports do."""
    i = aw.ids

    def get(url: str, role: str = "admin", **query: str) -> object:
        response = client.get(url, headers=aw.headers(role), query_string=query)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    states = {s["id"]: (s["status"], s["state"]) for s in get("/api/v1/sessions")}
    assert states[i["past_session"]] == ("delivered", "delivered")
    assert states[i["due_session"]] == ("scheduled", "not_yet_logged")
    assert states[i["future_session"]] == ("scheduled", "to_come")
    assert get(f"/api/v1/sessions/{i['due_session']}")["state"] == "not_yet_logged"
    assert {s["id"] for s in get("/api/v1/sessions", state="not_yet_logged")} == {i["due_session"]}
    assert {s["id"] for s in get("/api/v1/sessions", state="to_come")} == {
        i["future_session"],
        i["other_session"],
    }
    assert get("/api/v1/sessions/counts") == {
        "planned": 4,
        "delivered": 1,
        "cancelled": 0,
        "not_yet_logged": 1,
        "to_come": 2,
    }
    # Filtered as the list is, and held to what the caller may see.
    assert get("/api/v1/sessions/counts", group_id=str(i["other_group"]))["planned"] == 1
    assert get("/api/v1/sessions/counts", "other_partner") == {
        "planned": 1,
        "delivered": 0,
        "cancelled": 0,
        "not_yet_logged": 0,
        "to_come": 1,
    }
    bad = client.get(
        "/api/v1/sessions", headers=aw.headers("admin"), query_string={"state": "scheduled"}
    )
    assert bad.status_code == 422 and is_problem(bad)


def test_datetimes_are_iso_8601_with_an_offset(client: FlaskClient, aw: ApiWorld) -> None:
    body = client.get(
        f"/api/v1/sessions/{aw.ids['past_session']}", headers=aw.headers("admin")
    ).get_json()
    assert body["start_dt"].endswith("+00:00") and body["updated_at"].endswith("+00:00")


# --- ETag and If-Match -------------------------------------------------------------------------


def test_reads_answer_an_etag_and_304_when_unchanged(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("admin")
    url = f"/api/v1/groups/{aw.ids['group']}"
    etag = etag_of(client, url, headers)
    response = client.get(url, headers={**headers, "If-None-Match": etag})
    assert response.status_code == 304 and response.data == b""
    fresh = client.get(url, headers=headers)
    assert "Authorization" in fresh.headers["Vary"]
    assert fresh.headers["Cache-Control"] == "private, no-cache"


def test_updates_need_if_match_and_refuse_a_stale_one(client: FlaskClient, aw: ApiWorld) -> None:
    headers = aw.headers("manager")
    url = f"/api/v1/sessions/{aw.ids['future_session']}"
    body = {"start_dt": "2026-12-30T10:00:00+00:00"}
    missing = client.patch(url, headers=headers, json=body)
    assert missing.status_code == 428 and is_problem(missing)

    etag = etag_of(client, url, headers)
    first = client.patch(url, headers={**headers, "If-Match": etag}, json=body)
    assert first.status_code == 200
    assert first.headers["ETag"] != etag and first.get_json()["version"] == 2
    # A second client still holding the old ETag is refused, and nothing changes.
    stale = client.patch(url, headers={**headers, "If-Match": etag}, json={"duration_minutes": 60})
    assert stale.status_code == 412 and is_problem(stale)
    assert client.get(url, headers=headers).get_json()["duration_minutes"] == 90


def test_attendance_logged_by_someone_else_meanwhile_is_a_412(
    client: FlaskClient, aw: ApiWorld
) -> None:
    url = f"/api/v1/sessions/{aw.ids['due_session']}/attendance"
    leader, manager = aw.headers("leader"), aw.headers("manager")
    etag = etag_of(client, url, leader)
    assert (
        client.put(
            url,
            headers={**manager, "If-Match": etag_of(client, url, manager)},
            json={"participants": 4},
        ).status_code
        == 200
    )
    response = client.put(url, headers={**leader, "If-Match": etag}, json={"participants": 9})
    assert response.status_code == 412
    assert client.get(url, headers=leader).get_json()["participants"] == 4


# --- The document and the docs page -----------------------------------------------------------


def test_the_openapi_document_describes_every_api_route(app: Flask, client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api_") or rule.endpoint.startswith("api_tokens"):
            continue
        if rule.endpoint.startswith("api_reference"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
    error = spec["components"]["responses"]["DEFAULT_ERROR"]["content"]
    assert "application/problem+json" in error
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    # The refusals every operation can give are named, not left to "default".
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue  # path-level parameters
            expected = {"401"} | ({"403", "404", "409"} if method != "get" else set())
            assert expected <= operation["responses"].keys(), (method, path)
    conflict = spec["components"]["responses"]["CONFLICT"]["content"]
    assert "application/problem+json" in conflict


def test_the_docs_page_is_rendered_from_the_same_document(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200 and page.content_type.startswith("text/html")
    html = page.get_data(as_text=True)
    for path in spec["paths"]:
        assert path in html
    for name in spec["components"]["schemas"]:
        assert f'id="schema-{name}"' in html
    assert "<script" not in html  # nothing loaded from elsewhere
