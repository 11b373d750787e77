"""Hours worked out from the schedule: each delivered session's length plus its group's
preparation and travel time per person who led or co-led it, a manager's adjustment instead
where one was made; totals per person, group and partner, in the report and the download."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.exports.partnership_report import build_report
from readerapp.exports.queries import ReportScope
from readerapp.extensions import db
from readerapp.workforce.models import GroupHoursSetting, SessionHoursAdjustment
from readerapp.workforce.operations import (
    HoursSettingData,
    LeaderRecordData,
    WorkforceError,
    adjust_hours,
    hours_lines,
    hours_totals,
    save_hours_setting,
    save_leader_record,
)

from .factories import Factory
from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .world import sign_in_as

Q1 = (date(2026, 1, 1), date(2026, 3, 31))


@pytest.fixture
def rate(app: Flask) -> Iterator[float]:
    old = app.config["VOLUNTEER_HOURLY_RATE"]
    app.config["VOLUNTEER_HOURLY_RATE"] = 15.0
    yield 15.0
    app.config["VOLUNTEER_HOURLY_RATE"] = old


@pytest.fixture
def quarter(factory: Factory, rate: float):
    """Two groups partnered with Moorside in the first quarter of 2026, one that is not."""
    moorside = factory.organisation(name="Moorside Trust")
    elsewhere = factory.organisation(name="Elsewhere Library", kind="library")
    volunteer = factory.user("reader_leader", display_name="Val Volunteer")
    staff = factory.user("reader_leader", display_name="Sam Staff")
    save_leader_record(volunteer, LeaderRecordData("volunteer"))
    save_leader_record(staff, LeaderRecordData("staff"))
    ward = factory.group(factory.venue(moorside), volunteer, name="Ward Readers")
    ward.coleaders = [staff]
    library = factory.group(factory.venue(elsewhere), volunteer, name="Library Readers")
    third = factory.group(factory.venue(moorside), volunteer, name="Day Room Readers")
    factory.partnership(moorside, ward)
    factory.partnership(elsewhere, library)
    # Day Room Readers is Moorside's from February only.
    factory.partnership(moorside, third, start_date=date(2026, 2, 1))
    save_hours_setting(ward, HoursSettingData(preparation_minutes=20, travel_minutes=10))

    def held(group, when, minutes, status="delivered", **kw):
        return factory.session(
            group,
            start_dt=when,
            duration_minutes=minutes,
            status=status,
            cancellation_reason="Ward closed" if status == "cancelled" else None,
            **kw,
        )

    s1 = held(ward, datetime(2026, 1, 13, 10, 30, tzinfo=UTC), 90)
    held(ward, datetime(2026, 3, 31, 23, 30, tzinfo=UTC), 90)  # 1 April, 00:30 in London
    held(ward, datetime(2026, 2, 10, 10, 30, tzinfo=UTC), 90, status="cancelled")
    held(library, datetime(2026, 2, 3, 10, 30, tzinfo=UTC), 60)
    held(third, datetime(2026, 1, 20, 14, 0, tzinfo=UTC), 60)  # before the partnership
    held(third, datetime(2026, 3, 3, 14, 0, tzinfo=UTC), 75)
    adjust_hours(s1, staff, 45, "Left after the reading")
    db.session.commit()
    # Ward, 13 Jan: volunteer 90 + 20 + 10 = 120; staff adjusted to 45.
    # Day Room, 3 Mar: volunteer 75 + 30 + 30 (the defaults) = 135.
    expected = {"all": 120 + 45 + 135, "volunteer": 120 + 135}
    return moorside, volunteer, staff, expected


def test_hours_per_partner_for_a_quarter_are_lengths_plus_settings_in_report_and_download(
    app: Flask, factory: Factory, quarter, rate: float
) -> None:
    moorside, _volunteer, _staff, expected = quarter
    lines = hours_lines(*Q1, organisation_id=moorside.id)
    assert sum(line.minutes for line in lines) == expected["all"]

    report = build_report(
        ReportScope(*Q1, organisation_id=moorside.id, as_of=datetime(2026, 6, 1, tzinfo=UTC))
    )
    rows = dict(report.summary_rows())
    assert rows["Reader leader hours delivered"] == round(expected["all"] / 60, 2) == 5.0
    assert rows["Volunteer hours delivered"] == round(expected["volunteer"] / 60, 2) == 4.25
    assert rows["Value of volunteer hours (£15.00 an hour)"] == 4.25 * rate

    manager = factory.user("manager")
    client = app.test_client()
    sign_in_as(client, manager)
    answer = client.get("/workforce/hours.csv?date_from=2026-01-01&date_to=2026-03-31&by=partner")
    assert answer.status_code == 200
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    assert table[0] == [
        "Partner",
        "Sessions",
        "Hours",
        "Volunteer hours",
        "Value of volunteer hours (£)",
    ]
    by_partner = {row[0]: row for row in table[1:]}
    assert by_partner["Moorside Trust"][2:] == ["5.0", "4.25", "63.75"]
    # Library Readers, 3 Feb: 60 + 30 + 30 for the volunteer.
    assert by_partner["Elsewhere Library"][2:] == ["2.0", "2.0", "30.0"]
    # Everyone's time, with Day Room Readers' 20 January (no partner then): 60 + 30 + 30.
    assert by_partner["All"][2:] == ["9.0", "8.25", "123.75"]


def test_totals_per_person_and_group(factory: Factory, quarter) -> None:
    lines = hours_lines(*Q1)
    people = {t.name: (t.minutes, t.volunteer_minutes) for t in hours_totals(lines, "person")}
    # Ward 120, Library 120, Day Room 120 (20 January) and 135 (3 March).
    assert people == {"Sam Staff": (45, 0), "Val Volunteer": (495, 495)}
    groups = {t.name: t.sessions for t in hours_totals(lines, "group")}
    assert groups == {"Day Room Readers": 2, "Library Readers": 1, "Ward Readers": 2}


def test_bad_adjustments_and_settings_are_refused_and_nothing_saved(
    factory: Factory, quarter
) -> None:
    _moorside, volunteer, _staff, _expected = quarter
    session = factory.session(status="scheduled")
    stranger = factory.user("reader_leader")
    delivered = db.session.scalars(sa.select(SessionHoursAdjustment.session_id)).one()
    from readerapp.sessions.models import ReadingSession

    ward_session = db.session.get(ReadingSession, delivered)
    db.session.commit()
    for target, person, minutes, reason, field in [
        (session, volunteer, 60, "x", "minutes"),
        (ward_session, stranger, 60, "x", "user_id"),
        (ward_session, volunteer, -1, "x", "minutes"),
        (ward_session, volunteer, 17 * 60, "x", "minutes"),
        (ward_session, volunteer, 60, "  ", "reason"),
    ]:
        with pytest.raises(WorkforceError) as refused:
            adjust_hours(target, person, minutes, reason)
        assert refused.value.field == field
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionHoursAdjustment)) == 1
    with pytest.raises(WorkforceError):
        save_hours_setting(ward_session.group, HoursSettingData(-5, 10))
    db.session.rollback()
    setting = db.session.get(GroupHoursSetting, ward_session.group_id)
    assert (setting.preparation_minutes, setting.travel_minutes) == (20, 10)


@pytest.mark.usefixtures("no_csrf")
def test_a_manager_adjusts_a_session_on_its_page_and_bad_input_is_shown_inline(
    app: Flask, factory: Factory, quarter
) -> None:
    _moorside, volunteer, _staff, _expected = quarter
    session_id = db.session.scalars(sa.select(SessionHoursAdjustment.session_id)).one()
    manager = factory.user("manager")
    client = app.test_client()
    sign_in_as(client, manager)
    url = f"/workforce/sessions/{session_id}/hours"
    bad = client.post(url, data={"user_id": volunteer.id, "minutes": "9999", "reason": "late"})
    assert bad.status_code == 400
    assert "Number must be between 0 and 960" in bad.get_data(as_text=True)
    good = client.post(url, data={"user_id": volunteer.id, "minutes": "100", "reason": "Late"})
    assert good.status_code == 302
    row = db.session.get(SessionHoursAdjustment, (session_id, volunteer.id))
    assert row is not None and row.minutes == 100


@pytest.mark.usefixtures("no_csrf")
def test_a_manager_sets_a_groups_preparation_and_travel_time(app: Flask, factory: Factory) -> None:
    group = factory.group()
    manager = factory.user("manager")
    client = app.test_client()
    sign_in_as(client, manager)
    url = f"/workforce/groups/{group.id}/hours"
    assert 'value="30"' in client.get(url).get_data(as_text=True)  # the defaults
    bad = client.post(url, data={"preparation_minutes": "1000", "travel_minutes": "10"})
    assert bad.status_code == 400
    assert "Number must be between 0 and 960" in bad.get_data(as_text=True)
    assert db.session.get(GroupHoursSetting, group.id) is None
    assert (
        client.post(url, data={"preparation_minutes": "15", "travel_minutes": "0"}).status_code
        == 302
    )
    setting = db.session.get(GroupHoursSetting, group.id)
    assert (setting.preparation_minutes, setting.travel_minutes) == (15, 0)
