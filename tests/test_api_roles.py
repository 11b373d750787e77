"""Every API endpoint for every role, with each role's own Bearer token: the web app's rules
(readerapp.access) hold in the API too."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from .api_helpers import API_ROLES, ApiWorld, build_api_world, is_problem, send_change
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE

STAFF = ("admin", "manager")


@pytest.fixture
def aw() -> ApiWorld:
    return build_api_world()


def listed_ids(client: FlaskClient, aw: ApiWorld, role: str, url: str) -> set[int]:
    response = client.get(url, headers=aw.headers(role), query_string={"per_page": 100})
    assert response.status_code == 200, (role, url, response.get_data(as_text=True))
    return {item["id"] for item in response.get_json()}


def status_of(client: FlaskClient, aw: ApiWorld, role: str, url: str) -> int:
    response = client.get(url, headers=aw.headers(role))
    if response.status_code >= 400:
        assert is_problem(response), response.get_data(as_text=True)
    return response.status_code


def test_groups_sessions_and_venues_follow_the_web_rules(client: FlaskClient, aw: ApiWorld) -> None:
    i = aw.ids
    mine = {i["past_session"], i["due_session"], i["future_session"]}
    expected_sessions = {
        "admin": mine | {i["other_session"]},
        "manager": mine | {i["other_session"]},
        "leader": mine,
        "other_leader": {i["other_session"]},
        "partner": mine,
        "other_partner": {i["other_session"]},
    }
    expected_groups = {
        "admin": {i["group"], i["other_group"]},
        "manager": {i["group"], i["other_group"]},
        "leader": {i["group"]},
        "other_leader": {i["other_group"]},
        "partner": {i["group"]},
        "other_partner": {i["other_group"]},
    }
    for role in API_ROLES:
        assert listed_ids(client, aw, role, "/api/v1/sessions") == expected_sessions[role], role
        assert listed_ids(client, aw, role, "/api/v1/groups") == expected_groups[role], role
        sees_group = i["group"] in expected_groups[role]
        assert status_of(client, aw, role, f"/api/v1/groups/{i['group']}") == (
            200 if sees_group else 404
        )
        assert status_of(client, aw, role, f"/api/v1/sessions/{i['past_session']}") == (
            200 if sees_group else 404
        )
        assert status_of(client, aw, role, f"/api/v1/sessions/{i['past_session']}/attendance") == (
            200 if sees_group else 404
        )
        assert status_of(client, aw, role, f"/api/v1/venues/{i['venue']}") == (
            200 if sees_group else 404
        )
        partnerships = listed_ids(client, aw, role, "/api/v1/partnerships")
        assert len(partnerships) == len(expected_groups[role])
        for partnership_id in partnerships:
            assert status_of(client, aw, role, f"/api/v1/partnerships/{partnership_id}") == 200
        venues = listed_ids(client, aw, role, "/api/v1/venues")
        assert (i["venue"] in venues) == sees_group


def test_organisations_are_those_around_the_groups_one_sees(
    client: FlaskClient, aw: ApiWorld
) -> None:
    i = aw.ids
    everyone = {i["host"], i["other_host"], i["station"]}
    expected = {
        "admin": everyone,
        "manager": everyone,
        "leader": {i["host"]},
        "other_leader": {i["other_host"]},
        "partner": {i["host"]},
        "other_partner": {i["other_host"]},
    }
    for role in API_ROLES:
        assert listed_ids(client, aw, role, "/api/v1/organisations") == expected[role], role
        for org in everyone:
            assert status_of(client, aw, role, f"/api/v1/organisations/{org}") == (
                200 if org in expected[role] else 404
            )


def test_partners_never_get_participant_level_data(client: FlaskClient, aw: ApiWorld) -> None:
    i = aw.ids
    for role in ("partner", "leader", "admin"):
        urls = [
            "/api/v1/sessions",
            f"/api/v1/sessions/{i['past_session']}",
            f"/api/v1/sessions/{i['past_session']}/attendance",
            f"/api/v1/venues/{i['venue']}",
        ]
        bodies = [client.get(u, headers=aw.headers(role)).get_data(as_text=True) for u in urls]
        text = "".join(bodies)
        assert SECRET_NAME not in text  # names are never in the API
        if role == "partner":
            assert SECRET_NOTE not in text and SECRET_CODE not in text
            assert "Willow Ward" not in text  # the unit is not shared by this host
            attendance = client.get(urls[2], headers=aw.headers(role)).get_json()
            assert attendance["register"] is None and attendance["participants"] == 6
        else:
            assert SECRET_NOTE in text and SECRET_CODE in text


def test_radio_is_read_by_staff_and_leaders_and_by_a_partner_only_for_its_station(
    client: FlaskClient, aw: ApiWorld
) -> None:
    i = aw.ids
    for role in API_ROLES:
        sees = role not in {"partner", "other_partner"}
        for path, key in (
            ("stations", "station"),
            ("programmes", "programme"),
            ("episodes", "episode"),
            ("broadcasts", "broadcast"),
        ):
            assert listed_ids(client, aw, role, f"/api/v1/{path}") == ({i[key]} if sees else set())
            assert status_of(client, aw, role, f"/api/v1/{path}/{i[key]}") == (200 if sees else 404)
        assert status_of(client, aw, role, f"/api/v1/materials/{i['material']}") == 200
        assert listed_ids(client, aw, role, "/api/v1/materials") == {i["material"]}


def test_feed_tokens_follow_the_web_rules(client: FlaskClient, aw: ApiWorld) -> None:
    """Staff manage every feed token; a reader leader only their own sessions' feed; partners
    none (as on the calendar-feeds pages)."""
    created = client.post(
        "/api/v1/feed-tokens",
        headers=aw.headers("admin"),
        json={"scope": "group", "group_id": aw.ids["group"], "label": "Ward calendar"},
    )
    assert created.status_code == 201
    token_id = created.get_json()["id"]
    for role in API_ROLES:
        headers = aw.headers(role)
        staff = role in STAFF
        partner = role in {"partner", "other_partner"}
        assert status_of(client, aw, role, "/api/v1/feed-tokens") == (403 if partner else 200)
        assert status_of(client, aw, role, f"/api/v1/feed-tokens/{token_id}") == (
            200 if staff else 403
        )
        if not staff:
            group_feed = {"scope": "group", "group_id": aw.ids["group"]}
            assert (
                client.post("/api/v1/feed-tokens", headers=headers, json=group_feed).status_code
                == 403
            )
            assert (
                client.post(f"/api/v1/feed-tokens/{token_id}/rotate", headers=headers).status_code
                == 403
            )
            assert (
                client.delete(f"/api/v1/feed-tokens/{token_id}", headers=headers).status_code == 403
            )
    # A leader lists only their own feed, and may give it out, rotate and revoke it.
    leader = aw.headers("leader")
    assert listed_ids(client, aw, "leader", "/api/v1/feed-tokens") == set()
    own = client.post(
        "/api/v1/feed-tokens", headers=leader, json={"scope": "leader", "user_id": aw.ids["leader"]}
    )
    assert own.status_code == 201, own.get_data(as_text=True)
    own_id = own.get_json()["id"]
    assert listed_ids(client, aw, "leader", "/api/v1/feed-tokens") == {own_id}
    assert status_of(client, aw, "other_leader", f"/api/v1/feed-tokens/{own_id}") == 403
    rotated = client.post(f"/api/v1/feed-tokens/{own_id}/rotate", headers=leader)
    assert rotated.status_code == 201
    revoked = client.delete(f"/api/v1/feed-tokens/{rotated.get_json()['id']}", headers=leader)
    assert revoked.status_code == 204


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_change_a_session_and_its_attendance(
    client: FlaskClient, aw: ApiWorld, role: str
) -> None:
    i = aw.ids
    expected = {
        "admin": 200,
        "manager": 200,
        "leader": 200,
        "other_leader": 404,
        "partner": 403,
        "other_partner": 404,
    }[role]
    logged = send_change(
        client,
        aw,
        role,
        "PUT",
        f"/api/v1/sessions/{i['due_session']}/attendance",
        {"participants": 5, "first_time": 0, "register": {"codes": [SECRET_CODE]}},
    )
    assert logged.status_code == expected, logged.get_data(as_text=True)
    moved = send_change(
        client,
        aw,
        role,
        "PATCH",
        f"/api/v1/sessions/{i['future_session']}",
        {"start_dt": "2026-12-30T10:00:00+00:00"},
    )
    assert moved.status_code == expected, moved.get_data(as_text=True)
    cancelled = send_change(
        client,
        aw,
        role,
        "PATCH",
        f"/api/v1/sessions/{i['future_session']}",
        {"status": "cancelled", "cancellation_reason": "Ward closed for cleaning"},
    )
    assert cancelled.status_code == expected, cancelled.get_data(as_text=True)
    if expected == 200:
        assert logged.get_json()["logged"] is True
        assert logged.get_json()["register"][0]["code"] == SECRET_CODE
        assert moved.get_json()["start_dt"] == "2026-12-30T10:00:00+00:00"
        assert cancelled.get_json()["status"] == "cancelled"


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_change_groups_partnerships_and_broadcasts(
    client: FlaskClient, aw: ApiWorld, role: str
) -> None:
    i = aw.ids
    staff = role in STAFF
    sees_group = role in {"admin", "manager", "leader", "partner"}
    group = client.post(
        "/api/v1/groups",
        headers=aw.headers(role),
        json={
            "name": f"New group {role}",
            "venue_id": i["venue"],
            "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "start_time": "10:00:00",
            "duration_minutes": 60,
            "first_date": "2026-12-07",
        },
    )
    assert group.status_code == (201 if staff else 403), group.get_data(as_text=True)
    renamed = send_change(
        client, aw, role, "PATCH", f"/api/v1/groups/{i['group']}", {"capacity": 12}
    )
    assert renamed.status_code == (200 if staff else 403 if sees_group else 404)
    partnership = client.post(
        "/api/v1/partnerships",
        headers=aw.headers(role),
        json={
            "organisation_id": i["other_host"],
            "group_id": i["group"],
            "role": "referrer",
            "start_date": "2026-12-01",
        },
    )
    assert partnership.status_code == (201 if staff else 403 if sees_group else 404)
    broadcast = client.post(
        "/api/v1/broadcasts",
        headers=aw.headers(role),
        json={"episode_id": i["episode"], "air_dt": "2026-12-28T19:00:00+00:00"},
    )
    assert broadcast.status_code == (201 if staff else 403)
    moved = send_change(
        client,
        aw,
        role,
        "PATCH",
        f"/api/v1/broadcasts/{i['broadcast']}",
        {"air_dt": "2026-12-29T19:00:00+00:00"},
    )
    sees_radio = role not in {"partner", "other_partner"}
    assert moved.status_code == (200 if staff else 403 if sees_radio else 404)
    if staff:
        assert renamed.get_json()["capacity"] == 12
        pid = partnership.get_json()["id"]
        changed = send_change(
            client, aw, role, "PATCH", f"/api/v1/partnerships/{pid}", {"role": "funder"}
        )
        assert changed.status_code == 200 and changed.get_json()["role"] == "funder"
        removed = send_change(client, aw, role, "DELETE", f"/api/v1/partnerships/{pid}", {})
        assert removed.status_code == 204
        assert (
            client.get(f"/api/v1/partnerships/{pid}", headers=aw.headers(role)).status_code == 404
        )
