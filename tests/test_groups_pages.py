"""The group pages through the test client: who sees what, the forms, their errors."""

from __future__ import annotations

import re
from datetime import date, time, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.extensions import db
from readerapp.groups.models import ReadingGroup
from readerapp.organisations.models import Partnership
from readerapp.sessions.models import ReadingSession
from readerapp.timeutil import to_local, utcnow

from . import groups_support
from .factories import Factory
from .groups_support import fresh
from .world import SECRET_CODE, SECRET_NAME, SECRET_NOTE, World, build_world, client_for

deferred_reads = groups_support.deferred_reads
no_csrf = groups_support.no_csrf
pytestmark = pytest.mark.usefixtures("deferred_reads")


@pytest.fixture
def world() -> World:
    return build_world()


def _group_count() -> int:
    fresh()
    return db.session.scalar(sa.select(sa.func.count()).select_from(ReadingGroup)) or 0


def _group_form(world: World, **changes: str) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Thursday Poetry",
        "venue_id": str(world.venue.id),
        "lead_leader_id": str(world.leader.id),
        "status": "active",
        "frequency": "weekly",
        "weekdays": ["TH"],
        "start_time": "14:00",
        "duration_minutes": "60",
        "tz_name": "Europe/London",
        "first_date": to_local(utcnow()).date().isoformat(),
        "end": "none",
        "excluded_dates": "",
    }
    data.update(changes)
    return data


# --- Who sees which groups -----------------------------------------------------------------------


def test_each_role_lists_exactly_the_groups_it_may_see(app: Flask, world: World) -> None:
    expected = {
        "admin": {"Willow Readers", "B Wing Readers"},
        "manager": {"Willow Readers", "B Wing Readers"},
        "leader": {"Willow Readers"},
        "other_leader": {"B Wing Readers"},
        "partner": {"Willow Readers"},
        "other_partner": {"B Wing Readers"},
    }
    for role, names in expected.items():
        page = client_for(app, world.user_for(role)).get("/groups")
        assert page.status_code == 200
        listed = set(re.findall(r'<a href="/groups/\d+">([^<]+)</a>', page.text))
        assert listed == names, role


def test_a_coleader_sees_the_group_and_a_partner_of_a_new_partnership_does_too(
    app: Flask, world: World, factory: Factory
) -> None:
    world.other_group.coleaders.append(world.leader)
    factory.partnership(world.host, world.other_group, role="funder")
    db.session.commit()
    other_id = world.other_group.id
    for role in ("leader", "partner"):
        client = client_for(app, world.user_for(role))
        assert client.get(f"/groups/{other_id}").status_code == 200
        assert "B Wing Readers" in client.get("/groups").text


def test_detail_is_forbidden_to_the_other_leader_and_other_partner(
    app: Flask, world: World
) -> None:
    group_id = world.group.id
    assert client_for(app, world.other_leader).get(f"/groups/{group_id}").status_code == 403
    assert client_for(app, world.other_partner).get(f"/groups/{group_id}").status_code == 403
    assert client_for(app, world.admin).get("/groups/999999").status_code == 404


def test_list_filters_by_status_setting_and_name(app: Flask, world: World) -> None:
    world.other_group.status = "paused"
    db.session.commit()
    client = client_for(app, world.manager)
    paused = client.get("/groups?status=paused").text
    assert "B Wing Readers" in paused and "Willow Readers" not in paused
    prisons = client.get("/groups?setting=prison").text
    assert "B Wing Readers" in prisons and "Willow Readers" not in prisons
    named = client.get("/groups?q=willow").text
    assert "Willow Readers" in named and "B Wing Readers" not in named
    # Unknown filter values are ignored rather than failing.
    assert client.get("/groups?status=zzz&setting=%00&page=-4").status_code == 200


def test_detail_shows_pattern_sessions_headcounts_and_reading(app: Flask, world: World) -> None:
    future_id, past_id, due_id = (
        world.future_session.id,
        world.past_session.id,
        world.due_session.id,
    )
    page = client_for(app, world.leader).get(f"/groups/{world.group.id}")
    assert page.status_code == 200
    # Recent sessions: the logged one with its headcount, the due one flagged, both linked.
    assert re.search(
        rf'href="/sessions/{past_id}">[^<]+</a></td>\s*<td data-label="Status">'
        r'<span class="badge badge-delivered">Delivered</span></td>\s*'
        r'<td class="num" data-label="Participants">6</td>',
        page.text,
    )
    assert f'href="/sessions/{due_id}"' in page.text and "Not logged yet" in page.text
    assert "Every Tuesday, 10:30–12:00" in page.text
    assert f'href="/sessions/{future_id}"' in page.text
    assert "The Happy Prince" in page.text and "Oscar Wilde" in page.text
    assert "<svg" in page.text and "Participants per month" in page.text
    assert "Willow Ward" in page.text  # the unit, shown to the group's leader
    assert "Northmoor Trust" in page.text  # its partner


def test_partner_sees_headcounts_but_no_unit_notes_links_or_people(
    app: Flask, world: World
) -> None:
    world.group.audience_notes = "Adults on the ward; referrals through the OT team"
    db.session.commit()
    page = client_for(app, world.partner).get(f"/groups/{world.group.id}")
    assert page.status_code == 200
    text = page.text
    assert "Every Tuesday" in text
    month = to_local(world.past_session.start_dt).strftime("%B %Y")
    # A month adds up sessions: partners see it rounded to the nearest 5 (6 -> 5), so that it
    # never gives back a session's suppressed headcount.
    assert re.search(
        rf'{month}</th><td class="num" data-label="Sessions">1</td>'
        rf'<td class="num" data-label="Participants">5</td>',
        text,
    )
    for secret in (SECRET_NAME, SECRET_CODE, SECRET_NOTE, "Willow Ward", "referrals through"):
        assert secret not in text
    assert "/sessions/" not in text
    assert "/edit" not in text and "partnerships/new" not in text
    assert "Lee Leader" not in text and "Lee" in text  # leaders by first name only


# --- Creating and editing groups -----------------------------------------------------------------


def test_manager_creates_a_group_and_its_sessions_are_scheduled(
    app: Flask, world: World, no_csrf: None
) -> None:
    client = client_for(app, world.manager)
    response = client.post(
        "/groups/new",
        # A Thursday group: the day excluded is a Thursday (see the refusal test below).
        data=_group_form(world, excluded_dates="2030-12-26 Boxing Day\n", coleader_ids=[]),
    )
    assert response.status_code == 302
    fresh()
    group = db.session.scalar(sa.select(ReadingGroup).where(ReadingGroup.name == "Thursday Poetry"))
    assert group is not None and group.rrule == "FREQ=WEEKLY;BYDAY=TH"
    assert response.headers["Location"].endswith(f"/groups/{group.id}")
    assert [(x.day, x.reason) for x in group.excluded_dates] == [(date(2030, 12, 26), "Boxing Day")]
    sessions = db.session.scalars(
        sa.select(ReadingSession).where(ReadingSession.group_id == group.id)
    ).all()
    assert len(sessions) >= 20
    assert {to_local(s.start_dt, "Europe/London").time() for s in sessions} == {time(14, 0)}
    page = client.get(f"/groups/{group.id}").text
    assert "Every Thursday, 14:00–15:00" in page


def test_monthly_builder_from_the_form(app: Flask, world: World, no_csrf: None) -> None:
    client = client_for(app, world.admin)
    response = client.post(
        "/groups/new",
        data=_group_form(
            world,
            frequency="monthly",
            weekdays=[],
            month_ordinal="2",
            month_day="TH",
            end="count",
            count="6",
        ),
    )
    assert response.status_code == 302
    fresh()
    group = db.session.scalar(sa.select(ReadingGroup).where(ReadingGroup.name == "Thursday Poetry"))
    assert group.rrule == "FREQ=MONTHLY;BYDAY=2TH;COUNT=6"
    edit = client.get(f"/groups/{group.id}/edit").text
    assert re.search(r'<option selected value="2">Second</option>', edit)
    assert 'value="6"' in edit and re.search(r'checked id="end-2"', edit)


def test_the_group_form_sets_the_usual_most_and_whether_it_keeps_a_register(
    app: Flask, world: World, no_csrf: None
) -> None:
    client = client_for(app, world.manager)
    # A checkbox left unticked is simply absent from the form.
    response = client.post("/groups/new", data=_group_form(world, expected_max="8"))
    assert response.status_code == 302
    fresh()
    group = db.session.scalar(sa.select(ReadingGroup).where(ReadingGroup.name == "Thursday Poetry"))
    assert (group.expected_max, group.keeps_register) == (8, False)
    page = client.get(f"/groups/{group.id}/edit").text
    assert 'id="expected_max"' in page and 'value="8"' in page
    tick = r'<input[^>]*id="keeps_register"[^>]*>'
    assert " checked" not in re.search(tick, page).group(0)
    assert " checked" in re.search(tick, client.get("/groups/new").text).group(0)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"name": ""}, "name", "This field is required"),
        ({"name": "n" * 201}, "name", "longer than 200"),
        ({"venue_id": "999999"}, "venue_id", "Not a valid choice"),
        ({"venue_id": "abc"}, "venue_id", "Invalid Choice"),
        ({"lead_leader_id": "999999"}, "lead_leader_id", "Not a valid choice"),
        ({"first_date": "2026-02-30"}, "first_date", "Not a valid date"),
        ({"first_date": "1066-10-14"}, "first_date", "between 2000 and 2100"),
        ({"start_time": "25:61"}, "start_time", "Not a valid time"),
        ({"duration_minutes": "ninety"}, "duration_minutes", "Not a valid integer"),
        ({"duration_minutes": "0"}, "duration_minutes", "between 1 and 720"),
        ({"weekdays": []}, "weekdays", "at least one day"),
        ({"weekdays": ["XX"]}, "weekdays", "not a valid choice"),
        ({"frequency": "every_n_weeks"}, "interval", "how many weeks apart"),
        ({"frequency": "hourly"}, "frequency", "Not a valid choice"),
        ({"frequency": "custom", "custom_rule": "FREQ=SECONDLY"}, "custom_rule", "FREQ must"),
        ({"end": "last_date"}, "last_date", "Enter the last date"),
        ({"frequency": "custom"}, "custom_rule", "Enter the rule"),
        ({"end": "count"}, "count", "Enter the number of sessions"),
        ({"end": "count", "count": "5000"}, "count", "between 1 and 1000"),
        ({"tz_name": "Europe/Atlantis"}, "tz_name", "not a time zone"),
        ({"tz_name": "localtime"}, "tz_name", "not a time zone"),
        ({"tz_name": "Factory"}, "tz_name", "not a time zone"),
        ({"excluded_dates": "2026-13-01"}, "excluded_dates", "line 1"),
        ({"capacity": "-1"}, "capacity", "between 1 and 10000"),
        ({"expected_max": "0"}, "expected_max", "between 1 and 10000"),
        ({"audience_notes": "a" * 2001}, "audience_notes", "longer than 2000"),
    ],
)
def test_bad_group_input_gives_inline_errors_400_and_writes_nothing(
    app: Flask, world: World, no_csrf: None, changes: dict[str, object], field: str, message: str
) -> None:
    before = _group_count()
    response = client_for(app, world.manager).post(
        "/groups/new", data=_group_form(world, **changes)
    )
    assert response.status_code == 400
    assert 'class="error-summary"' in response.text
    assert f'id="{field}-error"' in response.text
    assert message in response.text, response.text[response.text.find("error-summary") :][:1500]
    assert _group_count() == before


def test_a_start_time_the_clocks_skip_is_refused_inline(
    app: Flask, world: World, no_csrf: None
) -> None:
    before = _group_count()
    form = _group_form(world, weekdays=["SU"], start_time="01:30")
    response = client_for(app, world.manager).post("/groups/new", data=form)
    assert response.status_code == 400
    assert 'id="start_time-error"' in response.text
    assert "01:30 does not exist in Europe/London on 28 Mar 2027" in response.text
    assert _group_count() == before
    # Excluding the days the clocks skip (here, a pattern ending before the next one) is fine.
    ok = client_for(app, world.manager).post(
        "/groups/new",
        data={**form, "end": "last_date", "last_date": "2027-03-21"},
    )
    assert ok.status_code == 302, ok.text[:2000]


def test_duplicate_name_is_an_inline_error(app: Flask, world: World, no_csrf: None) -> None:
    response = client_for(app, world.manager).post(
        "/groups/new", data=_group_form(world, name="willow readers")
    )
    assert response.status_code == 400
    assert 'id="name-error"' in response.text and "already a group" in response.text


def test_editing_the_pattern_keeps_people_s_changes(
    app: Flask, world: World, no_csrf: None
) -> None:
    group_id, future_id, past_id = world.group.id, world.future_session.id, world.past_session.id
    future = world.future_session
    future.touched, future.notes = True, "Moved rooms"
    db.session.commit()
    client = client_for(app, world.manager)
    form = client.get(f"/groups/{group_id}/edit")
    assert form.status_code == 200
    assert re.search(r'checked id="weekdays-1"', form.text)  # Tuesday
    response = client.post(
        f"/groups/{group_id}/edit",
        data=_group_form(world, name="Willow Readers", weekdays=["FR"], start_time="11:00"),
    )
    assert response.status_code == 302
    fresh()
    sessions = db.session.scalars(
        sa.select(ReadingSession).where(ReadingSession.group_id == group_id)
    ).all()
    ids = {s.id for s in sessions}
    assert {future_id, past_id} <= ids
    generated = [s for s in sessions if s.occurrence_dt is not None and not s.touched]
    assert generated
    assert all(to_local(s.start_dt).weekday() == 4 for s in generated)
    assert all(to_local(s.start_dt).time() == time(11, 0) for s in generated)


def test_a_refused_edit_changes_nothing(app: Flask, world: World, no_csrf: None) -> None:
    group_id = world.group.id
    response = client_for(app, world.manager).post(
        f"/groups/{group_id}/edit",
        data=_group_form(world, name="Renamed", weekdays=["FR"], tz_name="Nowhere/Land"),
    )
    assert response.status_code == 400
    fresh()
    group = db.session.get(ReadingGroup, group_id)
    assert (group.name, group.rrule) == ("Willow Readers", "FREQ=WEEKLY;BYDAY=TU")


def test_forms_without_the_csrf_token_are_refused(app: Flask, world: World) -> None:
    before = _group_count()
    response = client_for(app, world.manager).post("/groups/new", data=_group_form(world))
    assert response.status_code == 400
    assert _group_count() == before


def test_leaders_and_partners_cannot_create_or_edit(app: Flask, world: World) -> None:
    group_id = world.group.id
    for role in ("leader", "partner"):
        client = client_for(app, world.user_for(role))
        assert client.get("/groups/new").status_code == 403
        assert client.get(f"/groups/{group_id}/edit").status_code == 403


# --- Partnerships --------------------------------------------------------------------------------


def test_manager_adds_edits_and_removes_a_partnership(
    app: Flask, world: World, factory: Factory, no_csrf: None
) -> None:
    library = factory.organisation(name="Central Library", kind="library")
    db.session.commit()
    group_id, library_id = world.group.id, library.id
    client = client_for(app, world.manager)
    response = client.post(
        f"/groups/{group_id}/partnerships/new",
        data={"organisation_id": str(library_id), "role": "referrer", "start_date": "2026-03-01"},
    )
    assert response.status_code == 302
    fresh()
    partnership = db.session.scalar(
        sa.select(Partnership).where(Partnership.organisation_id == library_id)
    )
    assert (partnership.role, partnership.start_date) == ("referrer", date(2026, 3, 1))
    assert "Central Library" in client.get(f"/groups/{group_id}").text

    partnership_id = partnership.id
    edit_url = f"/groups/{group_id}/partnerships/{partnership_id}/edit"
    bad = client.post(
        edit_url,
        data={
            "organisation_id": str(library_id),
            "role": "host",
            "start_date": "2026-03-01",
            "end_date": "2026-02-01",
        },
    )
    assert bad.status_code == 400 and 'id="end_date-error"' in bad.text
    good = client.post(
        edit_url,
        data={
            "organisation_id": str(library_id),
            "role": "funder",
            "start_date": "2026-03-01",
            "end_date": "2026-12-31",
        },
    )
    assert good.status_code == 302
    fresh()
    assert db.session.get(Partnership, partnership_id).role == "funder"

    removed = client.post(f"/groups/{group_id}/partnerships/{partnership_id}/remove")
    assert removed.status_code == 302
    fresh()
    assert db.session.get(Partnership, partnership_id) is None


def test_partnership_of_another_group_is_not_found(app: Flask, world: World) -> None:
    other = world.other_group.partnerships[0].id
    group_id = world.group.id
    client = client_for(app, world.manager)
    assert client.get(f"/groups/{group_id}/partnerships/{other}/edit").status_code == 404


def test_unknown_organisation_and_impossible_date_are_inline_errors(
    app: Flask, world: World, no_csrf: None
) -> None:
    group_id = world.group.id
    response = client_for(app, world.manager).post(
        f"/groups/{group_id}/partnerships/new",
        data={"organisation_id": "424242", "role": "overlord", "start_date": "2026-02-31"},
    )
    assert response.status_code == 400
    for field in ("organisation_id", "role", "start_date"):
        assert f'id="{field}-error"' in response.text
    fresh()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Partnership)) == 2


def test_upcoming_sessions_show_cancellations(app: Flask, world: World) -> None:
    future = world.future_session
    future.status, future.cancellation_reason, future.touched = "cancelled", "Ward closed", True
    db.session.commit()
    page = client_for(app, world.leader).get(f"/groups/{world.group.id}").text
    assert "Cancelled" in page and "Ward closed" in page
    partner_page = client_for(app, world.partner).get(f"/groups/{world.group.id}").text
    assert "Cancelled" in partner_page and "Ward closed" not in partner_page


def test_headcounts_group_by_local_month(app: Flask, world: World, factory: Factory) -> None:
    two_months_ago = utcnow() - timedelta(days=62)
    session = factory.session(world.group, start_dt=two_months_ago, status="delivered")
    factory.attendance(session, participants=9, first_time=3)
    db.session.commit()
    page = client_for(app, world.manager).get(f"/groups/{world.group.id}").text
    month = to_local(two_months_ago).strftime("%B %Y")
    assert re.search(
        rf'{month}</th><td class="num" data-label="Sessions">1</td>'
        rf'<td class="num" data-label="Participants">9</td>',
        page,
    )


def test_control_characters_and_odd_query_strings_never_fail(
    app: Flask, world: World, no_csrf: None
) -> None:
    client = client_for(app, world.manager)
    for url in ("/groups?q=a%00b", "/groups?page=%C2%B2", "/groups?page=99999999999"):
        assert client.get(url).status_code == 200, url
    before = _group_count()
    response = client.post("/groups/new", data=_group_form(world, name="Night\x00Readers"))
    assert response.status_code == 400
    assert 'id="name-error"' in response.text and "control characters" in response.text
    response = client.post(
        "/groups/new", data=_group_form(world, excluded_dates="2030-01-01 New\x07Year")
    )
    assert response.status_code == 400 and 'id="excluded_dates-error"' in response.text
    assert _group_count() == before
