"""The workforce pages: a person's checks seen by staff and by the person, never by partners,
every view audited; a check added on the form keeps only its last digits; bad input is shown
inline with nothing saved; lapsed assignments on the dashboard and the group's sessions."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.access import local_today
from readerapp.extensions import db
from readerapp.workforce.models import CheckRecord, TrainingRecord
from readerapp.workforce.operations import CheckData, TrainingData, add_check, add_training

from .audit_support import all_changes_text, events
from .factories import Factory
from .groups_support import no_csrf  # noqa: F401  (a fixture)
from .world import sign_in_as


@pytest.fixture
def regulated(app: Flask) -> Iterator[None]:
    old = app.config["WORKFORCE_REGULATED_SETTINGS"]
    app.config["WORKFORCE_REGULATED_SETTINGS"] = ("prison",)
    yield
    app.config["WORKFORCE_REGULATED_SETTINGS"] = old


def test_a_persons_checks_are_for_staff_and_themself_and_every_view_is_audited(
    app: Flask, factory: Factory
) -> None:
    leader = factory.user("reader_leader", display_name="Lee Leader")
    add_check(
        leader,
        CheckData(
            "enhanced_dbs_barred", "0012 3456 7890", local_today(), local_today() + timedelta(900)
        ),
    )
    partner = factory.user("partner_viewer")
    other = factory.user("reader_leader")
    manager = factory.user("manager")
    db.session.commit()
    url = f"/workforce/people/{leader.id}"
    client = app.test_client()
    for viewer, status in ((manager, 200), (leader, 200), (partner, 403), (other, 403)):
        sign_in_as(client, viewer)
        answer = client.get(url)
        assert answer.status_code == status
        if status == 200:
            assert "ending 7890" in answer.get_data(as_text=True)
    views = events(action="view_checks", entity_type="leader_record")
    assert [(e.entity_id, e.actor_id) for e in views] == [
        (str(leader.id), manager.id),
        (str(leader.id), leader.id),
    ]
    sign_in_as(client, leader)
    assert client.get("/workforce/me").headers["Location"].endswith(url)


@pytest.mark.usefixtures("no_csrf")
def test_a_check_added_on_the_form_keeps_its_last_digits_and_bad_input_saves_nothing(
    app: Flask, factory: Factory
) -> None:
    leader = factory.user("reader_leader")
    manager = factory.user("manager")
    client = app.test_client()
    sign_in_as(client, manager)
    url = f"/workforce/people/{leader.id}/checks"
    good = {
        "check-check_type": "enhanced_dbs_barred",
        "check-certificate_number": "0012 3456 7890",
        "check-issued_on": "2026-05-01",
        "check-renewal_due": "2029-05-01",
    }
    for change, words in (
        ({"check-renewal_due": "2026-04-01"}, "The renewal date must be after the issue date."),
        ({"check-certificate_number": "12AB"}, "A DBS certificate number is 12 digits"),
    ):
        answer = client.post(url, data=good | change)
        assert answer.status_code == 400
        assert words in answer.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(CheckRecord)) == 0
    assert client.post(url, data=good).status_code == 302
    check = db.session.scalars(sa.select(CheckRecord)).one()
    assert check.certificate_last_digits == "7890"
    # The trail records the change, never the digits.
    assert events(action="create", entity_type="check_record")
    assert "7890" not in all_changes_text()
    bad_course = client.post(
        f"/workforce/people/{leader.id}/training",
        data={"training-course": "juggling", "training-completed_on": "2026-05-01"},
    )
    assert bad_course.status_code == 400
    assert "Not a valid choice" in bad_course.get_data(as_text=True)


def test_lapsed_assignments_on_the_dashboard_and_the_groups_sessions(
    app: Flask, factory: Factory, regulated: None
) -> None:
    today = local_today()
    leader = factory.user("reader_leader", display_name="Lee Lapsed")
    add_check(
        leader,
        CheckData(
            "enhanced_dbs_barred", "001234567890", today - timedelta(1000), today - timedelta(1)
        ),
    )
    add_training(leader, TrainingData("leader_training", today - timedelta(400)))
    prison = factory.organisation(name="HMP Northmoor", kind="prison")
    group = factory.group(
        factory.venue(prison, setting_type="prison"), leader, name="A Wing Readers"
    )
    factory.session(group)
    colleague = factory.user("reader_leader")
    group.coleaders = [colleague]
    partner = factory.user("partner_viewer", organisation_id=prison.id)
    factory.partnership(prison, group)
    manager = factory.user("manager")
    db.session.commit()
    client = app.test_client()
    sign_in_as(client, manager)
    dashboard = client.get("/sessions").get_data(as_text=True)
    assert "Leader checks lapsed" in dashboard
    assert "Lee Lapsed</a>, A Wing Readers: missing a current enhanced DBS check" in dashboard
    assert "Leader check lapsed" in client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "missing a current enhanced DBS check" in client.get("/workforce/").get_data(
        as_text=True
    )
    # The leader sees it on their group's page; a co-leader does not learn of another's checks.
    sign_in_as(client, leader)
    assert "Leader check lapsed" in client.get(f"/groups/{group.id}").get_data(as_text=True)
    sign_in_as(client, colleague)
    assert "check lapsed" not in client.get(f"/groups/{group.id}").get_data(as_text=True)
    # Never to a partner.
    sign_in_as(client, partner)
    assert "check lapsed" not in client.get(f"/groups/{group.id}").get_data(as_text=True)
    assert "checks lapsed" not in client.get("/sessions").get_data(as_text=True)


@pytest.mark.usefixtures("no_csrf")
def test_staff_correct_and_remove_checks_and_training_on_the_persons_page(
    app: Flask, factory: Factory
) -> None:
    leader = factory.user("reader_leader")
    other = factory.user("reader_leader")
    manager = factory.user("manager")
    start = local_today()
    check = add_check(
        leader, CheckData("enhanced_dbs_barred", "0012 3456 7890", start, start + timedelta(900))
    )
    training = add_training(leader, TrainingData("leader_training", start))
    others_check = add_check(
        other, CheckData("enhanced_dbs_barred", "0012 3456 1111", start, start + timedelta(900))
    )
    db.session.commit()
    ids = (check.id, training.id, others_check.id)
    check_url = f"/workforce/people/{leader.id}/checks/{ids[0]}"
    training_url = f"/workforce/people/{leader.id}/training/{ids[1]}"
    client = app.test_client()
    # The person sees their own records but has no way to change them.
    sign_in_as(client, leader)
    page = client.get(f"/workforce/people/{leader.id}").get_data(as_text=True)
    assert "ending 7890" in page and check_url not in page
    assert client.get(check_url).status_code == 403
    assert client.post(f"{check_url}/delete").status_code == 403
    assert client.post(training_url, data={"course": "leader_training"}).status_code == 403

    sign_in_as(client, manager)
    assert check_url in client.get(f"/workforce/people/{leader.id}").get_data(as_text=True)
    # Someone else's record under this person's address is not found.
    assert client.get(f"/workforce/people/{leader.id}/checks/{ids[2]}").status_code == 404
    form = client.get(check_url).get_data(as_text=True)
    assert 'value="' + str(start + timedelta(900)) + '"' in form
    good = {
        "check_type": "enhanced_dbs_barred",
        "certificate_number": "",
        "issued_on": str(start),
        "renewal_due": str(start + timedelta(400)),
    }
    for change, words in (
        ({"renewal_due": str(start - timedelta(1))}, "The renewal date must be after the issue"),
        ({"certificate_number": "12AB"}, "A DBS certificate number is 12 digits"),
    ):
        answer = client.post(check_url, data=good | change)
        assert answer.status_code == 400
        assert words in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CheckRecord, ids[0]).renewal_due == start + timedelta(900)
    assert client.post(check_url, data=good).status_code == 302
    db.session.expire_all()
    corrected = db.session.get(CheckRecord, ids[0])
    # Left empty, the certificate keeps its stored digits.
    assert (corrected.renewal_due, corrected.certificate_last_digits) == (
        start + timedelta(400),
        "7890",
    )
    assert (
        client.post(check_url, data=good | {"certificate_number": "9999 8888 4321"}).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(CheckRecord, ids[0]).certificate_last_digits == "4321"

    bad_training = client.post(
        training_url,
        data={"course": "leader_training", "completed_on": str(start), "expires_on": str(start)},
    )
    assert bad_training.status_code == 400
    assert "The expiry must be after the completion date." in bad_training.get_data(as_text=True)
    assert (
        client.post(
            training_url, data={"course": "juggling", "completed_on": str(start)}
        ).status_code
        == 400
    )
    assert (
        client.post(
            training_url,
            data={"course": "leader_training", "completed_on": str(start - timedelta(3))},
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert db.session.get(TrainingRecord, ids[1]).completed_on == start - timedelta(3)

    assert client.post(f"{check_url}/delete").status_code == 302
    assert client.post(f"{training_url}/delete").status_code == 302
    assert client.post(f"/workforce/people/{leader.id}/checks/{ids[2]}/delete").status_code == 404
    db.session.expire_all()
    assert db.session.get(CheckRecord, ids[0]) is None
    assert db.session.get(TrainingRecord, ids[1]) is None
    assert db.session.get(CheckRecord, ids[2]) is not None
    # Every change is in the trail, never a certificate's digits.
    kinds = {(e.action, e.entity_type) for e in events()}
    assert {
        ("update", "check_record"),
        ("delete", "check_record"),
        ("update", "training_record"),
        ("delete", "training_record"),
    } <= kinds
    assert "7890" not in all_changes_text() and "4321" not in all_changes_text()
