"""The session pages through the test client: logging, validation, CSRF, the version check,
paper-register imports, the dashboard for each role, cancel and reschedule."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.attendance.models import Attendance, Participant, ParticipantAttendance
from readerapp.extensions import db
from readerapp.sessions.models import ReadingMaterial, ReadingSession
from readerapp.timeutil import to_local

from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, World, build_world, sign_in_as

pytestmark = pytest.mark.usefixtures("reads_do_not_lock")


@pytest.fixture
def world() -> World:
    w = build_world()
    db.session.rollback()
    return w


def _ids(w: World) -> dict[str, int]:
    ids = {
        "group": w.group.id,
        "due": w.due_session.id,
        "past": w.past_session.id,
        "future": w.future_session.id,
        "other": w.other_session.id,
    }
    db.session.rollback()
    return ids


def _token(client: FlaskClient, url: str) -> tuple[str, str]:
    """The CSRF token and version from a form page."""
    html = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    version = re.search(r'id="version" name="version" type="hidden" value="(\d+)"', html)
    assert token, html[:500]
    return token.group(1), version.group(1) if version else ""


def _log_data(token: str, version: str, /, **overrides: str | list[str]) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": token,
        "version": version,
        "status": "delivered",
        "participants": "5",
        "first_time": "1",
        "staff_carers": "2",
        "volunteers": "1",
        "materials-0-title": "The Dead",
        "materials-0-author": "James Joyce",
        "materials-0-kind": "short_story",
        "materials-1-title": "The Happy Prince",
        "materials-1-author": "Oscar Wilde",
        "materials-1-kind": "short_story",
        "present": SECRET_CODE,
        "new_codes": "NEW-1",
        "notes": "Good discussion",
        "leader_id": "0",
    }
    data.update(overrides)
    return data


def _counts() -> tuple[int, int, int, int]:
    db.session.rollback()
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) or 0,
        db.session.scalar(sa.select(sa.func.count()).select_from(ParticipantAttendance)) or 0,
        db.session.scalar(sa.select(sa.func.count()).select_from(Participant)) or 0,
        db.session.scalar(sa.select(sa.func.count()).select_from(ReadingMaterial)) or 0,
    )


def test_leader_logs_a_delivered_session(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    url = f"/sessions/{ids['due']}/log"
    token, version = _token(client, url)
    response = client.post(url, data=_log_data(token, version))
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    db.session.rollback()
    s = db.session.get(ReadingSession, ids["due"])
    assert s.status == "delivered" and s.touched and s.sequence == 1
    assert (s.attendance.participants, s.attendance.first_time) == (5, 1)
    assert sorted(m.title for m in s.materials) == ["The Dead", "The Happy Prince"]
    first = dict(
        db.session.execute(
            sa.select(Participant.code, ParticipantAttendance.first_time)
            .join(Participant)
            .where(ParticipantAttendance.session_id == s.id)
        ).all()
    )
    assert first == {SECRET_CODE: False, "NEW-1": True}

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "The session has been logged." in page
    # The group read The Happy Prince two weeks ago: warned after saving.
    assert "already read" in page and "The Happy Prince" in page


@pytest.mark.parametrize(
    ("overrides", "field_id", "message"),
    [
        ({"participants": "abc"}, "participants", "Not a valid integer"),
        ({"participants": "-1"}, "participants", "Enter 0 to 1000"),
        ({"first_time": "9"}, "first_time", "cannot be more than the participants"),
        ({"materials-0-title": "x" * 301}, "materials-0-title", "300 characters"),
        ({"materials-0-kind": "opera"}, "materials-0-kind", "Not a valid choice"),
        ({"materials-2-title": "Lonely title"}, "materials-2-author", "Give the author"),
        ({"leader_id": "999999"}, "leader_id", "Not a valid choice"),
        ({"leader_id": "abc"}, "leader_id", ""),
        ({"status": "maybe"}, "status-0", "Not a valid choice"),
        ({"status": "cancelled", "cancellation_reason": ""}, "cancellation_reason", "Say why"),
        ({"present": "Jane Smith<>"}, "present-0", "not a valid code"),
        ({"present": "UNKNOWN-9"}, "present-0", "Unknown participant code"),
        ({"new_codes": SECRET_CODE, "present": []}, "new_codes", "Already registered"),
        ({"participants": "1", "first_time": "0"}, "participants", "at least that"),
        ({"notes": "n" * 5001}, "notes", "5000 characters"),
        ({"notes": "nul\x00byte"}, "notes", "cannot be stored"),
        ({"materials-0-title": "The\x00Dead"}, "materials-0-title", "cannot be stored"),
        ({"version": "abc"}, "version", "out of date"),
    ],
)
def test_bad_input_is_shown_inline_with_400_and_nothing_is_written(
    client: FlaskClient, world: World, overrides: dict[str, str], field_id: str, message: str
) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    url = f"/sessions/{ids['due']}/log"
    token, version = _token(client, url)
    before = _counts()
    response = client.post(url, data=_log_data(token, version, **overrides))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in html
    assert f'href="#{field_id}"' in html
    assert message in html
    assert _counts() == before
    s = db.session.get(ReadingSession, ids["due"])
    assert (s.status, s.version) == ("scheduled", int(version))
    # What the user typed is kept.
    assert "Good discussion" in html or "notes" in overrides


def test_dashboard_pages_long_lists(client: FlaskClient, world: World, factory) -> None:
    group = db.session.get(type(world.group), world.group.id)
    start = world.due_session.start_dt
    for n in range(1, 30):
        factory.session(group, start_dt=start - timedelta(days=7 * n))
    db.session.commit()
    sign_in_as(client, world.manager)
    first = client.get("/sessions").get_data(as_text=True)
    assert "Page 1 of 2" in first and "(30 sessions)" in first
    second = client.get("/sessions?due_page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second
    assert client.get("/sessions?due_page=abc").status_code == 200


def test_already_read_warning_survives_a_failed_submit(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    url = f"/sessions/{ids['due']}/log"
    token, version = _token(client, url)
    response = client.post(url, data=_log_data(token, version, participants="-1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "This group has already read “The Happy Prince — Oscar Wilde”" in html


def test_post_without_csrf_token_is_rejected(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    url = f"/sessions/{ids['due']}/log"
    _token_value, version = _token(client, url)
    before = _counts()
    data = _log_data("", version)
    del data["csrf_token"]
    assert client.post(url, data=data).status_code == 400
    for path in (f"/sessions/{ids['future']}/cancel", f"/sessions/{ids['future']}/reschedule"):
        assert client.post(path, data={"version": "1", "reason": "x"}).status_code == 400
    upload = client.post(
        f"/groups/{ids['group']}/import-attendance",
        data={"file": (io.BytesIO(b"date,status\n2026-01-06,cancelled\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 400
    assert _counts() == before
    assert db.session.get(ReadingSession, ids["future"]).status == "scheduled"


def test_second_edit_gets_a_conflict_and_keeps_its_input(app: Flask, world: World) -> None:
    ids = _ids(world)
    url = f"/sessions/{ids['due']}/log"
    leader, manager = app.test_client(), app.test_client()
    sign_in_as(leader, world.leader)
    sign_in_as(manager, world.manager)
    leader_token, seen_version = _token(leader, url)
    manager_token, same_version = _token(manager, url)
    assert seen_version == same_version

    first = manager.post(url, data=_log_data(manager_token, same_version, notes="Manager's log"))
    assert first.status_code == 302, first.get_data(as_text=True)[:3000]
    second = leader.post(
        url,
        data=_log_data(
            leader_token, seen_version, notes="Leader's own words", participants="7", confirm="y"
        ),
    )
    html = second.get_data(as_text=True)
    assert second.status_code == 409
    assert "Someone else changed this session" in html
    assert "Leader&#39;s own words" in html and 'value="7"' in html
    db.session.rollback()
    s = db.session.get(ReadingSession, ids["due"])
    assert s.notes == "Manager's log" and s.attendance.participants == 5

    # Saving again, knowingly, with the version the conflict page carries.
    new_version = re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)
    # NEW-1 was added by the manager's save: it is now a known code.
    third = leader.post(
        url,
        data=_log_data(
            leader_token,
            new_version,
            notes="Leader's own words",
            participants="7",
            confirm="y",
            present=[SECRET_CODE, "NEW-1"],
            new_codes="",
        ),
    )
    assert third.status_code == 302
    db.session.rollback()
    assert db.session.get(ReadingSession, ids["due"]).attendance.participants == 7


def test_dashboard_for_a_leader(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    html = client.get("/sessions").get_data(as_text=True)
    assert "To log" in html
    assert f"/sessions/{ids['due']}/log" in html
    # It started three days ago and lasted 90 minutes.
    assert "2 days overdue" in html
    assert f"/sessions/{ids['future']}" in html
    assert f"/sessions/{ids['other']}" not in html  # another leader's group
    assert "Recently logged" in html and f"/sessions/{ids['past']}" in html


def test_dashboard_for_a_manager_shows_every_group(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.manager)
    html = client.get("/sessions").get_data(as_text=True)
    assert f"/sessions/{ids['other']}" in html and f"/sessions/{ids['future']}" in html
    assert f"/sessions/{ids['due']}/log" in html


def test_dashboard_and_session_for_a_partner_are_headcounts_only(
    client: FlaskClient, world: World
) -> None:
    ids = _ids(world)
    sign_in_as(client, world.partner)
    html = client.get("/sessions").get_data(as_text=True)
    assert "To log" not in html and "/log" not in html
    assert f"/sessions/{ids['future']}" in html and f"/sessions/{ids['other']}" not in html
    detail = client.get(f"/sessions/{ids['past']}").get_data(as_text=True)
    assert "Participants" in detail and ">6<" in detail
    for secret in (SECRET_CODE, SECRET_NAME, SECRET_NOTE):
        assert secret not in html and secret not in detail
    assert client.get(f"/sessions/{ids['other']}").status_code == 403


def test_missing_and_forbidden_sessions(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.other_leader)
    assert client.get("/sessions/999999").status_code == 404
    assert client.get("/sessions/999999/log").status_code == 404
    assert client.get("/groups/999999/import-attendance").status_code == 404
    assert client.get(f"/sessions/{ids['due']}/log").status_code == 403
    assert client.get(f"/sessions/{ids['due']}").status_code == 403


def test_cancel_and_reschedule_pages(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    s = db.session.get(ReadingSession, ids["future"])
    old_local = to_local(s.start_dt, s.tz_name)
    other = db.session.get(ReadingSession, ids["due"])
    clash_local = to_local(other.start_dt, other.tz_name)
    db.session.rollback()

    url = f"/sessions/{ids['future']}/reschedule"
    token, version = _token(client, url)
    clash = client.post(
        url,
        data={
            "csrf_token": token,
            "version": version,
            "date": clash_local.strftime("%Y-%m-%d"),
            "start_time": clash_local.strftime("%H:%M"),
            "duration_minutes": "90",
        },
    )
    assert clash.status_code == 409  # a clash with another session, shown inline
    assert "already has a session" in clash.get_data(as_text=True)
    moved_to = old_local + timedelta(days=1)
    ok = client.post(
        url,
        data={
            "csrf_token": token,
            "version": version,
            "date": moved_to.strftime("%Y-%m-%d"),
            "start_time": "14:15",
            "duration_minutes": "60",
        },
    )
    assert ok.status_code == 302
    db.session.rollback()
    s = db.session.get(ReadingSession, ids["future"])
    assert to_local(s.start_dt, s.tz_name).strftime("%H:%M") == "14:15"
    assert s.sequence == 1 and s.rescheduled_from_dt is not None
    db.session.rollback()

    url = f"/sessions/{ids['future']}/cancel"
    token, version = _token(client, url)
    stale = client.post(url, data={"csrf_token": token, "version": "1", "reason": "Ward closed"})
    assert stale.status_code == 409
    ok = client.post(url, data={"csrf_token": token, "version": version, "reason": "Ward closed"})
    assert ok.status_code == 302
    db.session.rollback()
    s = db.session.get(ReadingSession, ids["future"])
    assert (s.status, s.cancellation_reason, s.sequence) == ("cancelled", "Ward closed", 2)


def _upload(client: FlaskClient, group_id: int, text: str):
    url = f"/groups/{group_id}/import-attendance"
    token, _ = _token(client, url)
    return client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(text.encode("utf-8")), "register.csv")},
        content_type="multipart/form-data",
    )


def test_csv_import_is_all_or_nothing_with_line_numbers(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    due = db.session.get(ReadingSession, ids["due"])
    due_local = to_local(due.start_dt, due.tz_name)
    db.session.rollback()
    sign_in_as(client, world.leader)

    template = client.get(f"/groups/{ids['group']}/import-attendance/template.csv")
    assert template.status_code == 200
    body = template.get_data(as_text=True)
    assert body.startswith("\ufeffdate,start_time,status,participants")
    assert due_local.strftime("%Y-%m-%d") in body

    day = due_local.strftime("%Y-%m-%d")
    earlier = (due_local - timedelta(days=30)).strftime("%d/%m/%Y")
    header = "date,start_time,status,participants,first_time,staff_carers,volunteers,"
    header += "story_title,story_author,participant_codes,new_codes,cancellation_reason\n"
    bad = (
        header
        + f"{day},,delivered,4,1,1,0,The Dead,James Joyce,{SECRET_CODE},NEW-7,\n"
        + "2026-02-30,,delivered,3,0,0,0,,,,,\n"
        + f"{earlier},,delivered,two,0,0,0,,,,,\n"
        + f"{earlier},,cancelled,0,0,0,0,,,,,\n"
    )
    before = _counts()
    response = _upload(client, ids["group"], bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was imported" in html
    rows = re.findall(r'<tr><td class="num">(\d+)</td><td>([^<]*)</td></tr>', html)
    lines = [int(line) for line, _ in rows]
    assert lines == [3, 4, 5]
    assert "not a real date" in rows[0][1] and "not a whole number" in rows[1][1]
    assert "reason" in rows[2][1]
    assert _counts() == before
    assert db.session.get(ReadingSession, ids["due"]).status == "scheduled"
    db.session.rollback()

    good = (
        header
        + f"{day},,delivered,4,1,1,0,The Dead,James Joyce,{SECRET_CODE},NEW-7,\n"
        + f"{earlier},,cancelled,0,0,0,0,,,,,Ward closed\n"
    )
    response = _upload(client, ids["group"], good)
    assert response.status_code == 302, response.get_data(as_text=True)[:3000]
    db.session.rollback()
    due = db.session.get(ReadingSession, ids["due"])
    assert due.status == "delivered" and due.attendance.participants == 4
    assert [m.title for m in due.materials] == ["The Dead"]
    one_off = db.session.scalars(
        sa.select(ReadingSession).where(
            ReadingSession.group_id == ids["group"], ReadingSession.status == "cancelled"
        )
    ).one()
    assert one_off.occurrence_dt is None and one_off.cancellation_reason == "Ward closed"

    again = _upload(client, ids["group"], good)
    assert again.status_code == 400
    assert "already logged" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("date,colour\n2026-01-01,red\n", "unknown column"),
        ("status\ndelivered\n", "missing column"),
        ("date,status\n", "no rows"),
    ],
)
def test_csv_import_rejects_bad_files(
    client: FlaskClient, world: World, content: str, message: str
) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    response = _upload(client, ids["group"], content)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)


def test_csv_import_refuses_non_utf8(client: FlaskClient, world: World) -> None:
    ids = _ids(world)
    sign_in_as(client, world.leader)
    url = f"/groups/{ids['group']}/import-attendance"
    token, _ = _token(client, url)
    response = client.post(
        url,
        data={"csrf_token": token, "file": (io.BytesIO(b"date,status\n\xff\xfe,x\n"), "r.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "UTF-8" in response.get_data(as_text=True)


def test_reschedule_refuses_a_skipped_time_and_asks_about_a_repeated_one(
    client: FlaskClient, world: World
) -> None:
    ids = _ids(world)
    before = db.session.get(ReadingSession, ids["future"]).start_dt
    db.session.rollback()
    sign_in_as(client, world.leader)
    url = f"/sessions/{ids['future']}/reschedule"
    token, version = _token(client, url)
    data = {"csrf_token": token, "version": version, "start_time": "01:30"}
    data["duration_minutes"] = "55"

    gap = client.post(url, data={**data, "date": "2027-03-28"})
    assert gap.status_code == 400
    assert "does not exist in Europe/London" in gap.get_data(as_text=True)
    fold = client.post(url, data={**data, "date": "2027-10-31"})
    html = fold.get_data(as_text=True)
    assert fold.status_code == 400
    assert 'id="fold-error"' in html and "01:30 GMT (second)" in html
    s = db.session.get(ReadingSession, ids["future"])
    assert (s.start_dt, s.sequence) == (before, 0)
    db.session.rollback()

    chosen = client.post(url, data={**data, "date": "2027-10-31", "fold": "0"})
    assert chosen.status_code == 302
    s = db.session.get(ReadingSession, ids["future"])
    assert s.start_dt == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    db.session.rollback()
    page = client.get(f"/sessions/{ids['future']}").get_data(as_text=True)
    assert "01:30 BST–01:25 GMT" in page


def test_the_already_read_note_is_for_those_who_plan_sessions_not_partners(
    client: FlaskClient, world: World, factory
) -> None:
    group = db.session.get(type(world.group), world.group.id)
    material = db.session.get(ReadingMaterial, world.material.id)
    again = factory.session(
        group,
        start_dt=world.past_session.start_dt + timedelta(days=7),
        status="delivered",
        touched=True,
    )
    again.materials = [material]
    factory.attendance(again, participants=4)
    db.session.commit()
    url = f"/sessions/{again.id}"
    note = "This group has already read “The Happy Prince — Oscar Wilde”"
    for planner in (world.leader, world.manager):
        sign_in_as(client, planner)
        page = client.get(url)
        assert page.status_code == 200 and note in page.get_data(as_text=True)
    sign_in_as(client, world.partner)
    page = client.get(url)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "The Happy Prince" in html
    assert "already read" not in html
