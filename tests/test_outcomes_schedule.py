"""When to ask: a group's measures and their schedule, and the log form's reminder of who is due
(first session, every N sessions, every N weeks, at leaving), which never blocks a log."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.outcomes.answers import AnswerSetData, record_consent, save_answer_set
from readerapp.outcomes.models import GroupMeasure, Measure, MeasureVersion
from readerapp.outcomes.operations import load_builtin_measures
from readerapp.outcomes.schedule import ScheduleData, ScheduleError, due_at, save_schedule
from readerapp.timeutil import to_local, utcnow

from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .world import sign_in_as

WEEK = timedelta(days=7)


@pytest.fixture
def ons4() -> MeasureVersion:
    load_builtin_measures()
    return db.session.scalar(sa.select(MeasureVersion))


def _answered(person, group, version, day: date) -> None:
    save_answer_set(
        AnswerSetData(
            measure_version_id=version.id,
            group=group,
            participant=person,
            session=None,
            answered_on=day,
            mode="self_paper",
            answers={"happiness": 6},
        ),
        None,
    )


def test_who_is_due_at_a_session(factory, ons4: MeasureVersion) -> None:
    leader = factory.user("reader_leader")
    group = factory.group(leader=leader)
    organisation = group.venue.organisation
    save_schedule(group, ScheduleData(ons4.measure_id, True, 3, 4, False))
    now = utcnow().replace(microsecond=0)
    weekly = [
        factory.session(group, start_dt=now - WEEK * n, status="delivered") for n in (6, 2, 1)
    ]
    this = factory.session(group, start_dt=now - timedelta(hours=2))
    day = lambda s: to_local(s.start_dt).date()  # noqa: E731

    newcomer = factory.participant(organisation, code="AWR-001")  # never answered
    regular = factory.participant(organisation, code="AWR-002")  # answered 6 weeks ago, came 2×
    lapsed = factory.participant(organisation, code="AWR-003")  # answered 6 weeks ago, no visits
    recent = factory.participant(organisation, code="AWR-004")  # answered a week ago
    for person in (regular, lapsed, recent):
        record_consent(person, "evaluation", True, day(weekly[0]), leader.id)
    _answered(regular, group, ons4, day(weekly[0]))
    _answered(lapsed, group, ons4, day(weekly[0]))
    _answered(recent, group, ons4, day(weekly[2]))
    for session in weekly[1:]:
        factory.register(session, regular)
        factory.register(session, recent)

    due = due_at(this, [p.id for p in (newcomer, regular, lapsed, recent)])
    # The third session since their answers (two before, and this one).
    assert [d.why for d in due[regular.id]] == ["after 3 sessions"]
    assert [d.why for d in due[lapsed.id]] == ["after 4 weeks"]
    assert recent.id not in due
    (first,) = due[newcomer.id]
    assert first.why == "first time" and first.needs_consent
    assert first.describe() == (
        "ONS personal wellbeing (ONS4) due (first time): record consent to evaluation first"
    )
    assert due[regular.id][0].describe() == "ONS personal wellbeing (ONS4) due (after 3 sessions)"


def test_at_leaving_means_the_groups_last_session(factory, ons4: MeasureVersion) -> None:
    now = utcnow().replace(microsecond=0)
    group = factory.group(last_date=to_local(now).date() + timedelta(days=1))
    save_schedule(group, ScheduleData(ons4.measure_id, False, None, None, True))
    person = factory.participant(group.venue.organisation, code="AWR-009")
    record_consent(person, "evaluation", True, to_local(now).date(), None)
    _answered(person, group, ons4, to_local(now).date())
    last = factory.session(group, start_dt=now - timedelta(hours=1))
    (leaving,) = due_at(last, [person.id])[person.id]
    assert leaving.why == "leaving: the group's last session"
    # Not while another session is still planned after it.
    factory.session(group, start_dt=now + timedelta(hours=20))
    assert due_at(last, [person.id]) == {}


def test_a_schedule_needs_a_time_to_ask_and_sensible_numbers(factory, ons4) -> None:
    group = factory.group()
    with pytest.raises(ScheduleError, match="at least one time") as caught:
        save_schedule(group, ScheduleData(ons4.measure_id, False, None, None, False))
    assert caught.value.field == "at_first"
    with pytest.raises(ScheduleError, match="from 1 to 52"):
        save_schedule(group, ScheduleData(ons4.measure_id, True, 53, None, False))
    with pytest.raises(ScheduleError, match="Choose a measure"):
        save_schedule(group, ScheduleData(ons4.measure_id + 99, True, None, None, False))
    # Saving again changes the one schedule the group has for the measure.
    save_schedule(group, ScheduleData(ons4.measure_id, True, 6, None, False))
    save_schedule(group, ScheduleData(ons4.measure_id, True, None, 12, True))
    (schedule,) = db.session.scalars(sa.select(GroupMeasure)).all()
    assert (schedule.every_sessions, schedule.every_weeks, schedule.at_leaving) == (None, 12, True)


def _client(app: Flask, user) -> FlaskClient:
    client = app.test_client()
    sign_in_as(client, user)
    db.session.rollback()
    return client


@pytest.mark.usefixtures("no_csrf")
def test_managers_choose_a_groups_measures_and_its_leaders_see_them(
    app: Flask, factory, ons4
) -> None:
    manager = factory.user("manager")
    leader = factory.user("reader_leader")
    other_leader = factory.user("reader_leader")
    partner = factory.user("partner_viewer")
    group = factory.group(leader=leader)
    measure_id = ons4.measure_id
    db.session.commit()
    url = f"/groups/{group.id}/measures"

    staff = _client(app, manager)
    assert f'href="{url}"' in staff.get(f"/groups/{group.id}").text
    page = staff.get(url)
    assert page.status_code == 200 and "This group asks no measures yet." in page.text
    refused = staff.post(url, data={"measure_id": measure_id, "every_sessions": "0"})
    assert refused.status_code == 400
    assert "Number must be between 1 and 52" in refused.text
    nothing = staff.post(url, data={"measure_id": measure_id})  # unticked boxes: no time
    assert nothing.status_code == 400 and "Choose at least one time to ask." in nothing.text
    assert db.session.scalar(sa.select(sa.func.count(GroupMeasure.id))) == 0
    saved = staff.post(url, data={"measure_id": measure_id, "at_first": "y", "every_sessions": "6"})
    assert saved.status_code == 302
    listed = staff.get(url).text
    assert "At a person&#39;s first session, every 6 sessions" in listed

    own = _client(app, leader).get(url)
    assert own.status_code == 200 and "every 6 sessions" in own.text
    assert "Stop asking" not in own.text  # leaders see, managers decide
    assert _client(app, leader).post(url, data={"measure_id": measure_id}).status_code == 403
    assert _client(app, other_leader).get(url).status_code == 403
    assert _client(app, partner).get(url).status_code == 403

    schedule_id = db.session.scalar(sa.select(GroupMeasure.id))
    removed = staff.post(f"{url}/{schedule_id}/remove")
    assert removed.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(GroupMeasure.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Measure.id))) == 1


def test_the_log_form_reminds_the_leader_who_is_due(app: Flask, factory, ons4) -> None:
    leader = factory.user("reader_leader")
    group = factory.group(leader=leader)
    now = utcnow().replace(microsecond=0)
    before = factory.session(group, start_dt=now - WEEK, status="delivered")
    factory.attendance(before, participants=2, first_time=2)
    person = factory.participant(group.venue.organisation, code="AWR-007")
    factory.register(before, person, first_time=True)
    this = factory.session(group, start_dt=now - timedelta(hours=2))
    db.session.commit()
    client = _client(app, leader)
    assert "Wellbeing checks due" not in client.get(f"/sessions/{this.id}/log").text

    save_schedule(group, ScheduleData(ons4.measure_id, True, None, None, False))
    db.session.commit()
    page = client.get(f"/sessions/{this.id}/log").text
    assert "Wellbeing checks due" in page
    assert "AWR-007</span>: ONS personal wellbeing (ONS4) due (first time)" in page
