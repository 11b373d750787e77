"""Writes to organisations, venues, materials, programmes, episodes and one-off sessions through
the API: who may make them, what they refuse, and that a refusal writes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.groups.operations import generate_sessions
from readerapp.models import (
    Episode,
    Organisation,
    Programme,
    ReadingGroup,
    ReadingMaterial,
    ReadingSession,
    Venue,
)
from readerapp.radio.operations import create_broadcast
from readerapp.timeutil import to_local, utcnow

from .api_helpers import (
    API_ROLES,
    ApiWorld,
    build_api_world,
    etag_of,
    is_problem,
    send_change,
)

STAFF = {"admin", "manager"}


@pytest.fixture
def aw() -> ApiWorld:
    return build_api_world()


def count(model: type) -> int:
    db.session.rollback()  # read what the requests committed, not the test's own snapshot
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_add_and_change_organisations_and_venues(
    client: FlaskClient, aw: ApiWorld, role: str
) -> None:
    i = aw.ids
    staff = role in STAFF
    sees_host = role in {"admin", "manager", "leader", "partner"}
    made = client.post(
        "/api/v1/organisations",
        headers=aw.headers(role),
        json={"name": f"Westgate Library ({role})", "kind": "library"},
    )
    assert made.status_code == (201 if staff else 403), made.get_data(as_text=True)
    changed = send_change(
        client,
        aw,
        role,
        "PATCH",
        f"/api/v1/organisations/{i['host']}",
        {"contact_phone": "0161 000"},
    )
    assert changed.status_code == (200 if staff else 403 if sees_host else 404)
    venue = client.post(
        "/api/v1/venues",
        headers=aw.headers(role),
        json={"organisation_id": i["host"], "name": f"Day Room {role}", "setting_type": "other"},
    )
    assert venue.status_code == (201 if staff else 403)
    moved = send_change(
        client, aw, role, "PATCH", f"/api/v1/venues/{i['venue']}", {"unit": "Ash Ward"}
    )
    assert moved.status_code == (200 if staff else 403 if sees_host else 404)
    if staff:
        assert made.get_json()["kind"] == "library"
        assert made.get_json()["share_location_detail"] is False
        assert changed.get_json()["contact_phone"] == "0161 000"
        assert changed.get_json()["name"] == "Northmoor Trust"  # left out, kept
        assert venue.get_json()["organisation_id"] == i["host"]
        assert moved.get_json()["unit"] == "Ash Ward" and moved.get_json()["name"]
    else:
        for response in (made, changed, venue, moved):
            assert is_problem(response)


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_add_and_correct_texts(client: FlaskClient, aw: ApiWorld, role: str) -> None:
    adds = role not in {"partner", "other_partner"}
    made = client.post(
        "/api/v1/materials",
        headers=aw.headers(role),
        json={"title": f"Ozymandias {role}", "author": "Percy Bysshe Shelley", "kind": "poem"},
    )
    assert made.status_code == (201 if adds else 403), made.get_data(as_text=True)
    corrected = send_change(
        client, aw, role, "PATCH", f"/api/v1/materials/{aw.ids['material']}", {"author": "O. Wilde"}
    )
    assert corrected.status_code == (200 if role in STAFF else 403)
    if role in STAFF:
        assert corrected.get_json() == {
            "id": aw.ids["material"],
            "title": "The Happy Prince",
            "author": "O. Wilde",
            "kind": "short_story",
        }


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_add_and_change_programmes_and_episodes(
    client: FlaskClient, aw: ApiWorld, role: str
) -> None:
    i = aw.ids
    staff = role in STAFF
    sees_radio = role not in {"partner", "other_partner"}
    programme = client.post(
        "/api/v1/programmes",
        headers=aw.headers(role),
        json={"station_id": i["station"], "title": f"Night Poems {role}"},
    )
    assert programme.status_code == (201 if staff else 403), programme.get_data(as_text=True)
    renamed = send_change(
        client, aw, role, "PATCH", f"/api/v1/programmes/{i['programme']}", {"description": "Weekly"}
    )
    assert renamed.status_code == (200 if staff else 403 if sees_radio else 404)
    episode = client.post(
        "/api/v1/episodes",
        headers=aw.headers(role),
        json={
            "programme_id": i["programme"],
            "number": 2 + API_ROLES.index(role),
            "title": "Roads",
            "duration_minutes": 55,
            "material_ids": [i["material"]],
        },
    )
    assert episode.status_code == (201 if staff else 403)
    retitled = send_change(
        client, aw, role, "PATCH", f"/api/v1/episodes/{i['episode']}", {"title": "Where We Start"}
    )
    assert retitled.status_code == (200 if staff else 403 if sees_radio else 404)
    if staff:
        assert renamed.get_json()["description"] == "Weekly"
        assert episode.get_json()["material_ids"] == [i["material"]]
        assert retitled.get_json()["title"] == "Where We Start"
        assert retitled.get_json()["number"] == 1


@pytest.mark.parametrize("role", API_ROLES)
def test_who_may_add_a_one_off_session(client: FlaskClient, aw: ApiWorld, role: str) -> None:
    expected = {
        "admin": 201,
        "manager": 201,
        "leader": 201,
        "other_leader": 404,
        "partner": 403,
        "other_partner": 404,
    }[role]
    day = 20 + API_ROLES.index(role)
    response = client.post(
        "/api/v1/sessions",
        headers=aw.headers(role),
        json={"group_id": aw.ids["group"], "start_dt": f"2027-01-{day}T14:00:00+00:00"},
    )
    assert response.status_code == expected, response.get_data(as_text=True)
    if expected == 201:
        body = response.get_json()
        assert body["start_dt"] == f"2027-01-{day}T14:00:00+00:00"
        assert body["occurrence_dt"] is None and body["status"] == "scheduled"
        assert body["leader_id"] == aw.ids["leader"]  # the group's lead leader
        assert body["duration_minutes"] == 90  # the group's length
    else:
        assert is_problem(response)


def test_a_one_off_session_keeps_its_local_time_and_survives_regeneration(
    client: FlaskClient, aw: ApiWorld
) -> None:
    # 09:30 UTC in July is 10:30 in London: the session is kept at 10:30 local.
    response = client.post(
        "/api/v1/sessions",
        headers=aw.headers("leader"),
        json={
            "group_id": aw.ids["group"],
            "start_dt": "2027-07-01T09:30:00+00:00",
            "duration_minutes": 60,
            "leader_id": aw.ids["other_leader"],
        },
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    session_id = response.get_json()["id"]
    session = db.session.get(ReadingSession, session_id)
    assert to_local(session.start_dt, session.tz_name).time() == time(10, 30)
    assert session.leader_id == aw.ids["other_leader"] and session.duration_minutes == 60
    group = db.session.get(ReadingGroup, aw.ids["group"])
    generate_sessions(group, now=utcnow())
    db.session.commit()
    assert db.session.get(ReadingSession, session_id) is not None
    # It is a session like any other: it can be moved with the usual PATCH.
    url = f"/api/v1/sessions/{session_id}"
    headers = aw.headers("leader", **{"If-Match": etag_of(client, url, aw.headers("leader"))})
    moved = client.patch(url, headers=headers, json={"start_dt": "2027-07-02T09:30:00+00:00"})
    assert moved.status_code == 200


def test_an_instant_in_the_repeated_hour_is_kept_as_sent(client: FlaskClient, aw: ApiWorld) -> None:
    # 01:30 GMT on 31 October 2027 is the second 01:30 in London that night; the wall-clock
    # round trip once turned it into the first (00:30 UTC).
    for instant, expected in (
        ("2027-10-31T01:30:00+00:00", datetime(2027, 10, 31, 1, 30, tzinfo=UTC)),
        ("2027-10-31T01:30:00+01:00", datetime(2027, 10, 31, 0, 30, tzinfo=UTC)),
    ):
        response = client.post(
            "/api/v1/sessions",
            headers=aw.headers("leader"),
            json={"group_id": aw.ids["group"], "start_dt": instant, "duration_minutes": 55},
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        session = db.session.get(ReadingSession, response.get_json()["id"])
        assert session.start_dt == expected
    broadcast = client.post(
        "/api/v1/broadcasts",
        headers=aw.headers("manager"),
        json={"episode_id": aw.ids["episode"], "air_dt": "2027-10-31T01:30:00Z"},
    )
    assert broadcast.status_code == 201, broadcast.get_data(as_text=True)
    assert broadcast.get_json()["air_dt"].startswith("2027-10-31T01:30:00")


def test_one_off_sessions_refuse_a_taken_start_and_a_closed_groups_future(
    client: FlaskClient, aw: ApiWorld
) -> None:
    taken = db.session.get(ReadingSession, aw.ids["future_session"]).start_dt
    before = count(ReadingSession)
    clash = client.post(
        "/api/v1/sessions",
        headers=aw.headers("manager"),
        json={"group_id": aw.ids["group"], "start_dt": taken.isoformat()},
    )
    assert clash.status_code == 409 and is_problem(clash)
    assert "already has a session" in clash.get_json()["errors"]["json"]["start_dt"][0]
    group = db.session.get(ReadingGroup, aw.ids["group"])
    group.status = "closed"
    db.session.commit()
    closed = client.post(
        "/api/v1/sessions",
        headers=aw.headers("manager"),
        json={"group_id": aw.ids["group"], "start_dt": "2099-01-05T10:00:00+00:00"},
    )
    assert closed.status_code == 422 and "closed" in closed.get_json()["detail"]
    # A closed group's past can still be recorded.
    past = client.post(
        "/api/v1/sessions",
        headers=aw.headers("manager"),
        json={"group_id": aw.ids["group"], "start_dt": "2026-02-03T10:00:00+00:00"},
    )
    assert past.status_code == 201
    bad_leader = client.post(
        "/api/v1/sessions",
        headers=aw.headers("manager"),
        json={
            "group_id": aw.ids["group"],
            "start_dt": "2026-02-10T10:00:00+00:00",
            "leader_id": aw.ids["partner"],
        },
    )
    assert bad_leader.status_code == 422
    assert "leader_id" in bad_leader.get_json()["errors"]["json"]
    assert count(ReadingSession) == before + 1


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/organisations", {"name": "X"}, "kind"),
        ("/api/v1/organisations", {"name": "X", "kind": "bank"}, "kind"),
        ("/api/v1/organisations", {"name": "X", "kind": "library", "colour": "red"}, "colour"),
        (
            "/api/v1/organisations",
            {"name": "X", "kind": "library", "share_location_detail": "yes"},
            "share_location_detail",
        ),
        (
            "/api/v1/organisations",
            {"name": "X", "kind": "library", "contact_email": "not an address"},
            "contact_email",
        ),
        (
            "/api/v1/organisations",
            {"name": "X", "kind": "library", "prisons_reached": 3},
            "prisons_reached",
        ),
        (
            "/api/v1/venues",
            {"organisation_id": 999_999, "name": "X", "setting_type": "other"},
            None,
        ),
        ("/api/v1/venues", {"organisation_id": 1, "name": "", "setting_type": "other"}, "name"),
        ("/api/v1/materials", {"title": "X", "author": "Y"}, "kind"),
        ("/api/v1/materials", {"title": "X\u0000", "author": "Y", "kind": "poem"}, "title"),
        ("/api/v1/programmes", {"station_id": 999_999, "title": "X"}, "station_id"),
        ("/api/v1/episodes", {"programme_id": 1, "number": 0, "title": "X"}, "number"),
        ("/api/v1/sessions", {"group_id": 1, "start_dt": "2027-01-05T10:00:00"}, "start_dt"),
        ("/api/v1/sessions", {"group_id": 1, "start_dt": "2300-01-05T10:00:00Z"}, "start_dt"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_writes_nothing(
    client: FlaskClient, aw: ApiWorld, url: str, body: dict, field: str | None
) -> None:
    models = (Organisation, Venue, ReadingMaterial, Programme, Episode, ReadingSession)
    before = [count(m) for m in models]
    response = client.post(url, headers=aw.headers("admin"), json=body)
    assert response.status_code in (404, 422), response.get_data(as_text=True)
    assert is_problem(response)
    if field is not None:
        assert response.status_code == 422
        assert field in response.get_json()["errors"]["json"], response.get_json()
    assert [count(m) for m in models] == before


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/api/v1/organisations", {"name": "northmoor trust", "kind": "nhs_trust"}),
        (
            "/api/v1/materials",
            {"title": "the happy prince", "author": "oscar wilde", "kind": "poem"},
        ),
        ("/api/v1/programmes", {"station_id": "station", "title": "SHARED READING"}),
        (
            "/api/v1/episodes",
            {"programme_id": "programme", "number": 1, "title": "Again", "duration_minutes": 50},
        ),
        (
            "/api/v1/venues",
            {"organisation_id": "host", "name": "NORTHMOOR HOSPITAL", "setting_type": "other"},
        ),
    ],
)
def test_a_taken_name_or_number_is_a_409_on_its_field(
    client: FlaskClient, aw: ApiWorld, url: str, body: dict
) -> None:
    body = {k: aw.ids[v] if k.endswith("_id") else v for k, v in body.items()}
    response = client.post(url, headers=aw.headers("manager"), json=body)
    assert response.status_code == 409 and is_problem(response), response.get_data(as_text=True)
    (field,) = response.get_json()["errors"]["json"]
    assert field in {"name", "title", "number"}


def test_updates_need_if_match_and_refuse_a_stale_one(client: FlaskClient, aw: ApiWorld) -> None:
    urls = [
        f"/api/v1/organisations/{aw.ids['host']}",
        f"/api/v1/venues/{aw.ids['venue']}",
        f"/api/v1/materials/{aw.ids['material']}",
        f"/api/v1/programmes/{aw.ids['programme']}",
        f"/api/v1/episodes/{aw.ids['episode']}",
    ]
    headers = aw.headers("admin")
    for url in urls:
        missing = client.patch(url, headers=headers, json={})
        assert missing.status_code == 428 and is_problem(missing), url
        stale = client.patch(url, headers={**headers, "If-Match": '"stale"'}, json={})
        assert stale.status_code == 412 and is_problem(stale), url
        fresh = client.patch(
            url, headers={**headers, "If-Match": etag_of(client, url, headers)}, json={}
        )
        assert fresh.status_code == 200, (url, fresh.get_data(as_text=True))


def test_episode_texts_are_replaced_and_a_programme_on_air_keeps_its_station(
    client: FlaskClient, aw: ApiWorld
) -> None:
    i = aw.ids
    poem = ReadingMaterial(title="Everyone Sang", author="Siegfried Sassoon", kind="poem")
    other_station = Organisation(name="Cell Block FM", kind="radio_station")
    db.session.add_all([poem, other_station])
    db.session.commit()
    headers = aw.headers("manager")
    url = f"/api/v1/episodes/{i['episode']}"
    replaced = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"material_ids": [poem.id, i["material"]]},
    )
    assert replaced.status_code == 200
    assert sorted(replaced.get_json()["material_ids"]) == sorted([poem.id, i["material"]])
    unknown = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"material_ids": [999_999]},
    )
    assert unknown.status_code == 422 and "material_ids" in unknown.get_json()["errors"]["json"]
    # The world's programme has a broadcast: it stays on its station, and so does the station.
    url = f"/api/v1/programmes/{i['programme']}"
    kept = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"station_id": other_station.id},
    )
    assert kept.status_code == 422 and "station_id" in kept.get_json()["errors"]["json"]
    url = f"/api/v1/organisations/{i['station']}"
    still = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"kind": "library"},
    )
    assert still.status_code == 422 and "kind" in still.get_json()["errors"]["json"]
    # A programme without broadcasts may move.
    fresh = client.post(
        "/api/v1/programmes", headers=headers, json={"station_id": i["station"], "title": "New"}
    )
    url = f"/api/v1/programmes/{fresh.get_json()['id']}"
    moved = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"station_id": other_station.id},
    )
    assert moved.status_code == 200 and moved.get_json()["station_id"] == other_station.id


def test_a_corrected_text_shows_in_the_partners_feed(client: FlaskClient, aw: ApiWorld) -> None:
    from readerapp.feeds.operations import create_token

    _, raw = create_token("group", db.session.get(ReadingGroup, aw.ids["group"]))
    db.session.commit()
    feed = f"/feeds/{raw}.ics"
    first = client.get(feed)
    assert b"The Happy Prince" in first.data.replace(b"\r\n ", b"")
    url = f"/api/v1/materials/{aw.ids['material']}"
    headers = aw.headers("admin")
    fixed = client.patch(
        url,
        headers={**headers, "If-Match": etag_of(client, url, headers)},
        json={"title": "The Happy Prince and Other Tales"},
    )
    assert fixed.status_code == 200
    again = client.get(feed, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 200
    assert b"The Happy Prince and Other Tales" in again.data.replace(b"\r\n ", b"")


def test_broadcasts_still_schedule_episodes_made_through_the_api(
    client: FlaskClient, aw: ApiWorld
) -> None:
    made = client.post(
        "/api/v1/episodes",
        headers=aw.headers("admin"),
        json={
            "programme_id": aw.ids["programme"],
            "number": 9,
            "title": "Home",
            "duration_minutes": 30,
        },
    )
    assert made.status_code == 201
    episode = db.session.get(Episode, made.get_json()["id"])
    broadcast = create_broadcast(
        episode=episode, day=date(2027, 2, 2), at=time(20, 0), tz_name="Europe/London"
    )
    db.session.commit()
    assert broadcast.station_id == aw.ids["station"]
