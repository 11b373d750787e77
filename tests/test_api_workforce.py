"""The workforce through the API: records and check status without certificate numbers, for
staff and the person themself, never partners; every answer audited; bad checks refused with
problem+json and nothing saved; hours per partner as in the report."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from flask.testing import FlaskClient

from readerapp.extensions import db
from readerapp.workforce.models import CheckRecord, SessionHoursAdjustment, TrainingRecord
from readerapp.workforce.operations import LeaderRecordData, save_leader_record

from .api_helpers import ApiWorld, build_api_world, is_problem
from .audit_support import events
from .factories import Factory

CHECK = {
    "check_type": "enhanced_dbs_barred",
    "certificate_number": "0012 3456 7890",
    "issued_on": "2026-05-01",
    "renewal_due": "2029-05-01",
    "update_service": True,
    "update_checked_on": "2026-09-01",
}


def test_records_for_staff_and_the_person_never_partners_and_no_certificate_numbers(
    client: FlaskClient,
) -> None:
    aw = build_api_world()
    leader_id = aw.ids["leader"]
    url = f"/api/v1/leaders/{leader_id}"
    added = client.post(f"{url}/checks", json=CHECK, headers=aw.headers("manager"))
    assert added.status_code == 201, added.get_data(as_text=True)
    assert "certificate_number" not in added.get_json()
    assert "7890" not in added.get_data(as_text=True)
    assert (
        client.post(
            f"{url}/training",
            json={"course": "leader_training", "completed_on": "2026-02-01"},
            headers=aw.headers("admin"),
        ).status_code
        == 201
    )
    for role, status in {
        "admin": 200,
        "manager": 200,
        "leader": 200,
        "other_leader": 403,
        "partner": 403,
        "other_partner": 403,
    }.items():
        answer = client.get(url, headers=aw.headers(role))
        assert answer.status_code == status, role
        if status == 200:
            body = answer.get_json()
            assert body["checks"][0]["renewal_due"] == "2029-05-01"
            assert body["training"][0]["course"] == "leader_training"
            assert "7890" not in answer.get_data(as_text=True)
        else:
            assert is_problem(answer)
    # The list: staff see everyone who may lead, a leader their own record, partners nothing.
    everyone = client.get("/api/v1/leaders", headers=aw.headers("manager")).get_json()
    assert {aw.ids["leader"], aw.ids["other_leader"], aw.ids["manager"]} <= {
        p["user_id"] for p in everyone
    }
    own = client.get("/api/v1/leaders", headers=aw.headers("leader")).get_json()
    assert [p["user_id"] for p in own] == [leader_id]
    assert client.get("/api/v1/leaders", headers=aw.headers("partner")).status_code == 403
    # Leaders may not add checks, even their own.
    assert client.post(f"{url}/checks", json=CHECK, headers=aw.headers("leader")).status_code == 403
    db.session.rollback()
    viewed = events(action="view_checks", entity_type="leader_record", entity_id=str(leader_id))
    # Admin, manager and the leader on the item; the manager's and the leader's lists.
    assert len(viewed) == 5


def test_bad_checks_and_training_are_refused_with_problems_and_nothing_saved(
    client: FlaskClient,
) -> None:
    aw = build_api_world()
    url = f"/api/v1/leaders/{aw.ids['leader']}"
    headers = aw.headers("manager")
    for change, field in (
        ({"renewal_due": "2026-04-01"}, "renewal_due"),
        ({"certificate_number": "12345"}, "certificate_number"),
        ({"check_type": "police"}, "check_type"),
        ({"issued_on": "2026-02-30"}, "issued_on"),
    ):
        answer = client.post(f"{url}/checks", json=CHECK | change, headers=headers)
        assert answer.status_code == 422 and is_problem(answer), change
        assert field in answer.get_json()["errors"]["json"], answer.get_json()
    answer = client.post(
        f"{url}/training",
        json={"course": "juggling", "completed_on": "2026-02-01"},
        headers=headers,
    )
    assert answer.status_code == 422 and "Unknown course" in answer.get_json()["detail"]
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckRecord)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRecord)) == 0


def test_hours_per_partner_for_a_quarter(client: FlaskClient, factory: Factory) -> None:
    aw: ApiWorld = build_api_world()
    leader = aw.world.leader
    save_leader_record(leader, LeaderRecordData("volunteer"))
    group = aw.world.group
    host_id = aw.ids["host"]
    for day in (13, 20):
        factory.session(
            group,
            start_dt=datetime(2026, 1, day, 12, 0, tzinfo=UTC),
            duration_minutes=60,
            status="delivered",
        )
    db.session.commit()
    answer = client.get(
        "/api/v1/hours",
        query_string={
            "date_from": "2026-01-01",
            "date_to": "2026-03-31",
            "by": "partner",
            "organisation_id": host_id,
        },
        headers=aw.headers("manager"),
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    rows = {row["name"]: row for row in answer.get_json()}
    # The world's own sessions of the quarter count too: compare with the operation's lines.
    from readerapp.workforce.operations import hours_lines

    minutes = sum(
        line.minutes for line in hours_lines(date(2026, 1, 1), date(2026, 3, 31), host_id)
    )
    assert minutes >= 2 * (60 + 30 + 30)
    assert rows["Northmoor Trust"]["hours"] == round(minutes / 60, 2)
    # A period that ends before it starts holds nothing.
    reversed_period = client.get(
        "/api/v1/hours?date_from=2026-03-01&date_to=2026-01-01", headers=aw.headers("admin")
    ).get_json()
    assert [(r["name"], r["sessions"]) for r in reversed_period] == [("All", 0)]
    assert (
        client.get(
            "/api/v1/hours?date_from=2026-01-01&date_to=2026-03-31", headers=aw.headers("partner")
        ).status_code
        == 403
    )


def test_staff_correct_and_remove_checks_and_training_through_the_api(
    client: FlaskClient,
) -> None:
    aw = build_api_world()
    leader_url = f"/api/v1/leaders/{aw.ids['leader']}"
    manager = aw.headers("manager")
    check_id = client.post(f"{leader_url}/checks", json=CHECK, headers=manager).get_json()["id"]
    training_id = client.post(
        f"{leader_url}/training",
        json={"course": "leader_training", "completed_on": "2026-02-01"},
        headers=manager,
    ).get_json()["id"]
    check_url, training_url = (
        f"{leader_url}/checks/{check_id}",
        f"{leader_url}/training/{training_id}",
    )
    # The person, other leaders and partners may not change them; under another person's
    # address the record is not found.
    for role, status in {"leader": 403, "other_leader": 403, "partner": 403}.items():
        for method in ("PATCH", "DELETE"):
            answer = client.open(
                check_url,
                method=method,
                json={"renewal_due": "2030-01-01"},
                headers=aw.headers(role),
            )
            assert answer.status_code == status and is_problem(answer), (role, method)
    elsewhere = f"/api/v1/leaders/{aw.ids['other_leader']}/checks/{check_id}"
    assert client.patch(elsewhere, json={}, headers=manager).status_code == 404
    assert (
        client.delete(
            f"/api/v1/leaders/{aw.ids['other_leader']}/training/{training_id}", headers=manager
        ).status_code
        == 404
    )
    # Bad corrections are refused with a problem and change nothing.
    for change, field in (
        ({"renewal_due": "2026-04-01"}, "renewal_due"),
        ({"certificate_number": "12345"}, "certificate_number"),
        ({"check_type": "police"}, "check_type"),
        ({"update_service": False}, "update_checked_on"),
    ):
        answer = client.patch(check_url, json=change, headers=manager)
        assert answer.status_code == 422 and is_problem(answer), change
        assert field in answer.get_json()["errors"]["json"], answer.get_json()
    for change, words in (
        ({"course": "juggling"}, "Unknown course"),
        ({"expires_on": "2026-01-01"}, "The expiry must be after the completion date."),
    ):
        answer = client.patch(training_url, json=change, headers=manager)
        assert answer.status_code == 422 and words in answer.get_json()["detail"], change
    db.session.rollback()
    check = db.session.get(CheckRecord, check_id)
    assert (check.renewal_due, check.update_service) == (date(2029, 5, 1), True)
    assert db.session.get(TrainingRecord, training_id).expires_on is None
    # A correction keeps what it leaves out, the certificate's digits among them.
    answer = client.patch(
        check_url, json={"renewal_due": "2029-06-01"}, headers=aw.headers("admin")
    )
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json()["renewal_due"] == "2029-06-01" and "7890" not in answer.get_data(
        as_text=True
    )
    answer = client.patch(training_url, json={"expires_on": "2029-02-01"}, headers=manager)
    assert answer.status_code == 200 and answer.get_json()["expires_on"] == "2029-02-01"
    db.session.rollback()
    check = db.session.get(CheckRecord, check_id)
    assert (check.renewal_due, check.certificate_last_digits, check.update_checked_on) == (
        date(2029, 6, 1),
        "7890",
        date(2026, 9, 1),
    )
    assert client.delete(check_url, headers=manager).status_code == 204
    assert client.delete(training_url, headers=manager).status_code == 204
    assert client.delete(check_url, headers=manager).status_code == 404
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckRecord)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TrainingRecord)) == 0
    for action in ("update", "delete"):
        assert events(action=action, entity_type="check_record"), action
        assert events(action=action, entity_type="training_record"), action


def test_staff_adjust_a_sessions_hours_through_the_api(client: FlaskClient) -> None:
    aw = build_api_world()
    session = aw.world.past_session
    url = f"/api/v1/sessions/{session.id}/hours/{aw.ids['leader']}"
    manager = aw.headers("manager")
    worked_out = client.get(url, headers=manager)
    assert worked_out.status_code == 200, worked_out.get_data(as_text=True)
    assert worked_out.get_json()["adjusted"] is False and worked_out.get_json()["reason"] is None
    for role in ("leader", "partner"):
        assert client.get(url, headers=aw.headers(role)).status_code == 403
        assert (
            client.put(
                url, json={"minutes": 90, "reason": "Late"}, headers=aw.headers(role)
            ).status_code
            == 403
        )
    # Someone who did not lead the session has no hours for it.
    stranger = f"/api/v1/sessions/{session.id}/hours/{aw.ids['partner']}"
    assert client.get(stranger, headers=manager).status_code == 404
    refused = client.put(stranger, json={"minutes": 90, "reason": "Late"}, headers=manager)
    assert refused.status_code == 422 and "led or co-led" in refused.get_json()["detail"]
    for body in (
        {"minutes": 9999, "reason": "Late"},
        {"minutes": -1, "reason": "Late"},
        {"minutes": "90", "reason": "Late"},
        {"minutes": 90, "reason": ""},
        {"minutes": 90},
    ):
        answer = client.put(url, json=body, headers=manager)
        assert answer.status_code == 422 and is_problem(answer), body
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SessionHoursAdjustment)) == 0
    answer = client.put(url, json={"minutes": 100, "reason": "Stayed late"}, headers=manager)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.get_json() == {
        "session_id": session.id,
        "user_id": aw.ids["leader"],
        "minutes": 100,
        "adjusted": True,
        "reason": "Stayed late",
    }
    assert client.get(url, headers=aw.headers("admin")).get_json()["minutes"] == 100
    db.session.rollback()
    assert events(action="create", entity_type="hours_adjustment")
