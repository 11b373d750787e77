"""The radio pages: week view, create/move/cancel with inline errors, library, as-run, and the
station's own partner_viewer reading (not changing) its schedule."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.models import Broadcast, Episode, Programme
from readerapp.radio.operations import ConflictError, create_broadcast
from readerapp.timeutil import to_local

from .factories import Factory
from .radio_support import Series, shared_reading_series
from .world import sign_in_as


@pytest.fixture
def no_csrf(app: Flask):  # type: ignore[no-untyped-def]
    app.config["WTF_CSRF_ENABLED"] = False
    yield
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def series(factory: Factory) -> Series:
    return shared_reading_series(factory)


def _manager(factory: Factory, client: FlaskClient) -> None:
    user = factory.user("manager")
    db.session.commit()
    sign_in_as(client, user)


def _post(client: FlaskClient, url: str, data: dict[str, str]):  # type: ignore[no-untyped-def]
    db.session.commit()  # release the test's SQLite lock before a write request
    return client.post(url, data=data)


def test_create_refuses_an_overlap_inline_naming_both(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    first = create_broadcast(
        episode=series.episodes[0],
        day=datetime(2027, 3, 9).date(),
        at=datetime(2027, 3, 9, 20, 0).time(),
        tz_name="Europe/London",
    )
    _manager(factory, client)
    url = f"/radio/stations/{series.station.id}/broadcasts/new"
    data = {
        "episode_id": str(series.episodes[1].id),
        "air_date": "2027-03-09",
        "air_time": "20:30",
        "tz_name": "Europe/London",
    }
    response = _post(client, url, data)
    assert response.status_code == 409
    assert "overlaps" in response.text
    assert "Where We Begin" in response.text and "Roads" in response.text
    assert 'aria-invalid="true"' in response.text
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast)) == 1
    bad = _post(client, url, {**data, "air_date": "31/02/2027"})
    assert bad.status_code == 400 and "error-summary" in bad.text
    zone = _post(client, url, {**data, "tz_name": "Mars/Olympus"})
    assert zone.status_code == 400
    # It exists under /usr/share/zoneinfo, but follows the server's clock setting.
    host_clock = _post(client, url, {**data, "tz_name": "localtime"})
    assert host_clock.status_code == 400 and "such as Europe/London" in host_clock.text
    ok = _post(client, url, {**data, "air_time": "21:00", "repeat_of_id": "0"})
    assert ok.status_code == 302
    repeat = _post(
        client,
        url,
        {
            **data,
            "episode_id": str(series.episodes[0].id),
            "air_date": "2027-03-13",
            "air_time": "21:00",
            "repeat_of_id": str(first.id),
        },
    )
    assert repeat.status_code == 302
    made = db.session.scalar(sa.select(Broadcast).where(Broadcast.repeat_of_id == first.id))
    assert made is not None and to_local(made.air_dt, "Europe/London").hour == 21


def test_move_bumps_sequence_and_cancel_keeps_it_in_the_as_run_list(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    past = factory.broadcast(series.episodes[0], air_dt=datetime.now(UTC) - timedelta(days=2))
    b = factory.broadcast(series.episodes[1], air_dt=datetime.now(UTC) + timedelta(days=2))
    past_id, b_id = past.id, b.id
    _manager(factory, client)
    target = to_local(b.air_dt, "Europe/London") + timedelta(hours=3)
    moved = _post(
        client,
        f"/radio/broadcasts/{b_id}/move",
        {"air_date": target.date().isoformat(), "air_time": target.strftime("%H:%M")},
    )
    assert moved.status_code == 302
    db.session.rollback()
    b = db.session.get(Broadcast, b_id)
    assert b.sequence == 1 and b.version == 2
    assert _post(client, f"/radio/broadcasts/{past_id}/cancel", {"reason": ""}).status_code == 400
    cancelled = _post(client, f"/radio/broadcasts/{past_id}/cancel", {"reason": "News special"})
    assert cancelled.status_code == 302
    page = client.get(f"/radio/stations/{series.station.id}/as-run")
    assert page.status_code == 200
    assert "Cancelled" in page.text and "News special" in page.text
    week = client.get(f"/radio/stations/{series.station.id}/week")
    assert week.status_code == 200 and "Previous week" in week.text
    assert client.get(f"/radio/stations/{series.station.id}/week?start=nope").status_code == 400


def test_the_stations_own_partner_reads_but_cannot_change(
    factory: Factory, client: FlaskClient, series: Series
) -> None:
    b = factory.broadcast(series.episodes[0], air_dt=datetime.now(UTC) + timedelta(hours=1))
    partner = factory.user("partner_viewer", organisation_id=series.station.id)
    other = factory.user("partner_viewer")
    db.session.commit()
    sign_in_as(client, partner)
    week = client.get(f"/radio/stations/{series.station.id}/week")
    assert week.status_code == 200 and "Where We Begin" in week.text
    assert "/move" not in week.text and "Schedule a broadcast" not in week.text
    assert client.get(f"/radio/stations/{series.station.id}/as-run").status_code == 200
    assert client.get(f"/radio/broadcasts/{b.id}/move").status_code == 403
    # The library of its own station, read-only (as the API's programmes and episodes).
    library = client.get("/radio/programmes")
    assert library.status_code == 200 and "Where We Begin" in library.text
    assert "/edit" not in library.text and "New programme" not in library.text
    sign_in_as(client, other)
    assert client.get(f"/radio/stations/{series.station.id}/week").status_code == 403
    assert "Where We Begin" not in client.get("/radio/programmes").text


def test_episode_library_create_and_edit_with_materials(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    story = factory.material(title="The Happy Prince", author="Oscar Wilde")
    poem = factory.material(title="Everyone Sang", author="Siegfried Sassoon", kind="poem")
    _manager(factory, client)
    url = f"/radio/programmes/{series.programme.id}/episodes/new"
    clash = _post(client, url, {"number": "1", "title": "Again", "duration_minutes": "55"})
    assert clash.status_code == 409 and "already has an episode 1" in clash.text
    made = _post(
        client,
        url,
        {
            "number": "7",
            "title": "Bonus",
            "duration_minutes": "50",
            "material_ids": [str(story.id), str(poem.id)],
        },
    )
    assert made.status_code == 302
    episode = db.session.scalar(sa.select(Episode).where(Episode.number == 7))
    assert {m.title for m in episode.materials} == {"The Happy Prince", "Everyone Sang"}
    edited = _post(
        client,
        f"/radio/episodes/{episode.id}/edit",
        {
            "number": "7",
            "title": "Bonus track",
            "duration_minutes": "50",
            "material_ids": [str(poem.id)],
        },
    )
    assert edited.status_code == 302
    db.session.rollback()
    episode = db.session.get(Episode, episode.id)
    assert episode.title == "Bonus track" and [m.title for m in episode.materials] == [
        "Everyone Sang"
    ]
    library = client.get("/radio/programmes")
    assert "Bonus track" in library.text and "Siegfried Sassoon" in library.text


def test_programmes_are_created_and_edited_through_the_library(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    other_station = factory.station(name="Cell Block FM")
    _manager(factory, client)
    url = "/radio/programmes/new"
    taken = _post(client, url, {"station_id": str(series.station.id), "title": "shared reading"})
    assert taken.status_code == 409 and "already has a programme called" in taken.text
    made = _post(
        client,
        url,
        {"station_id": str(series.station.id), "title": "Poems at Night", "description": "Late"},
    )
    assert made.status_code == 302
    programme = db.session.scalar(sa.select(Programme).filter_by(title="Poems at Night"))
    edit_url = f"/radio/programmes/{programme.id}/edit"
    assert "Poems at Night" in client.get(edit_url).text
    moved = _post(
        client,
        edit_url,
        {"station_id": str(other_station.id), "title": "Poems After Dark", "description": ""},
    )
    assert moved.status_code == 302
    db.session.rollback()
    programme = db.session.get(Programme, programme.id)
    assert (programme.title, programme.station_id) == ("Poems After Dark", other_station.id)
    assert programme.description is None
    # A programme whose episodes have been on air stays on its station.
    factory.broadcast(series.episodes[0], air_dt=datetime.now(UTC) + timedelta(days=1))
    kept = _post(
        client,
        f"/radio/programmes/{series.programme.id}/edit",
        {"station_id": str(other_station.id), "title": "Shared Reading"},
    )
    assert kept.status_code == 400 and "stays there" in kept.text
    assert "Edit programme" in client.get("/radio/programmes").text


def test_conflict_error_names_both_broadcasts(series: Series) -> None:
    day = datetime(2027, 3, 9).date()
    create_broadcast(
        episode=series.episodes[0],
        day=day,
        at=datetime(2027, 1, 1, 20).time(),
        tz_name="Europe/London",
    )
    with pytest.raises(ConflictError) as caught:
        create_broadcast(
            episode=series.episodes[1],
            day=day,
            at=datetime(2027, 1, 1, 20, 54).time(),
            tz_name="Europe/London",
        )
    message = str(caught.value)
    assert "episode 2 “Roads” on Tue 9 Mar 2027 20:54" in message
    assert "episode 1 “Where We Begin” on Tue 9 Mar 2027 20:00–20:55" in message
    # Back to back is fine; a cancelled broadcast frees its time.
    create_broadcast(
        episode=series.episodes[1],
        day=day,
        at=datetime(2027, 1, 1, 20, 55).time(),
        tz_name="Europe/London",
    )


# --- clock changes (Europe/London: 28 March and 31 October 2027) -----------------------------


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Broadcast))


def test_a_time_the_clocks_skip_is_refused_not_moved(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    _manager(factory, client)
    url = f"/radio/stations/{series.station.id}/broadcasts/new"
    data = {
        "episode_id": str(series.episodes[0].id),
        "air_date": "2027-03-28",
        "air_time": "01:30",
        "tz_name": "Europe/London",
        "repeat_of_id": "0",
    }
    response = _post(client, url, data)
    assert response.status_code == 400
    assert 'id="air_time-error"' in response.text
    assert "01:30 on Sun 28 Mar 2027 does not exist in Europe/London" in response.text
    assert _count() == 0


def test_a_time_the_clocks_repeat_asks_which_one(
    factory: Factory, client: FlaskClient, series: Series, no_csrf: None
) -> None:
    _manager(factory, client)
    url = f"/radio/stations/{series.station.id}/broadcasts/new"
    data = {
        "episode_id": str(series.episodes[0].id),
        "air_date": "2027-10-31",
        "air_time": "01:30",
        "tz_name": "Europe/London",
        "repeat_of_id": "0",
    }
    asked = _post(client, url, data)
    assert asked.status_code == 400
    assert 'id="fold-error"' in asked.text and "happens twice" in asked.text
    assert "01:30 BST (first)" in asked.text and "01:30 GMT (second)" in asked.text
    assert _count() == 0

    second = _post(client, url, {**data, "fold": "1"})
    assert second.status_code == 302
    first = _post(client, url, {**data, "episode_id": str(series.episodes[1].id), "fold": "0"})
    assert first.status_code == 302
    airs = db.session.scalars(sa.select(Broadcast.air_dt).order_by(Broadcast.air_dt)).all()
    # 01:30 BST is 00:30 UTC and 01:30 GMT is 01:30 UTC: 55 minutes each, no overlap.
    assert airs == [
        datetime(2027, 10, 31, 0, 30, tzinfo=UTC),
        datetime(2027, 10, 31, 1, 30, tzinfo=UTC),
    ]

    # Moving keeps which 01:30 it is unless the form is told otherwise.
    later = db.session.scalar(sa.select(Broadcast).where(Broadcast.air_dt == airs[1]))
    move_url = f"/radio/broadcasts/{later.id}/move"
    form = client.get(move_url)
    assert "01:30 GMT (second)" in form.text
    assert re.search(r'<input checked id="fold-1"[^>]*value="1"', form.text), form.text
    data = {"air_date": "2027-10-31", "air_time": "01:30", "duration_minutes": "30", "fold": "1"}
    assert _post(client, move_url, data).status_code == 302
    db.session.refresh(later)
    assert (later.air_dt, later.duration_minutes) == (airs[1], 30)


@pytest.mark.parametrize(
    ("air_dt", "shown"),
    [
        # 55 minutes from 01:30 BST ends at 01:25 GMT; from 00:30 GMT at 02:25 BST.
        (datetime(2027, 10, 31, 0, 30, tzinfo=UTC), "01:30 BST–01:25 GMT"),
        (datetime(2027, 3, 28, 0, 30, tzinfo=UTC), "00:30 GMT–02:25 BST"),
    ],
    ids=["autumn", "spring"],
)
def test_a_broadcast_across_a_clock_change_ends_after_it_starts(
    factory: Factory, client: FlaskClient, series: Series, air_dt: datetime, shown: str
) -> None:
    local = to_local(air_dt, "Europe/London")
    create_broadcast(
        episode=series.episodes[0],
        day=local.date(),
        at=local.time(),
        tz_name="Europe/London",
        fold=local.fold,
    )
    _manager(factory, client)
    week = client.get(f"/radio/stations/{series.station.id}/week?start={local.date()}")
    assert week.status_code == 200
    assert shown in week.text
    assert "01:30–01:25" not in week.text


def _summary(page_text: str) -> str:
    found = re.search(r'<div class="counts" id="as-run-summary">(.*?)</div>', page_text, re.S)
    assert found is not None
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split())


def test_a_quiet_as_run_period_says_so_in_words_with_the_last_and_next_broadcast(
    factory: Factory, client: FlaskClient, series: Series
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    factory.broadcast(series.episodes[0], air_dt=now - timedelta(days=60), status="aired")
    factory.broadcast(series.episodes[1], air_dt=now + timedelta(days=3))
    _manager(factory, client)
    page = client.get(f"/radio/stations/{series.station.id}/as-run")
    assert page.status_code == 200
    text = _summary(page.text)
    assert "0 aired" not in text and "aired ·" not in text
    assert text.startswith("No broadcasts aired from ")
    assert "The last broadcast to air was Shared Reading, episode 1" in text
    assert "The next broadcast is Shared Reading, episode 2" in text


def test_as_run_counts_in_words_count_every_ended_broadcast(
    factory: Factory, client: FlaskClient, series: Series
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    for days in (3, 4):
        factory.broadcast(series.episodes[0], air_dt=now - timedelta(days=days), status="aired")
    # Ended, but the scheduler has not marked it yet: counted, and said to be awaiting the mark.
    factory.broadcast(series.episodes[1], air_dt=now - timedelta(days=2))
    factory.broadcast(
        series.episodes[2],
        air_dt=now - timedelta(days=1),
        status="cancelled",
        cancellation_reason="News special",
    )
    _manager(factory, client)
    page = client.get(f"/radio/stations/{series.station.id}/as-run")
    text = _summary(page.text)
    assert (
        "2 broadcasts aired, 1 broadcast ended and is not yet marked as aired and 1 cancelled."
        in text
    )
    assert "next broadcast" not in text
    assert page.text.count("Ended, not yet marked aired") == 1
