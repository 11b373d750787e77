"""Referrals per participant: moved on by the register alone, ended by hand with a reason; the
referrer told once per step, by a real SMTP server, only with the person's consent; bad input
refused with nothing written and nothing sent."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.api.tokens import create_token
from readerapp.attendance.operations import Headcounts, RegisterInput
from readerapp.audit.models import AuditEvent
from readerapp.extensions import db
from readerapp.logbook.operations import SessionLog, log_session
from readerapp.models import Organisation, Participant, ReadingGroup, ReadingSession, User
from readerapp.notifications.models import OutboxMessage
from readerapp.outcomes.answers import record_consent
from readerapp.referrals.models import Referral, ReferralStep
from readerapp.referrals.operations import (
    ReferralError,
    ReferralInput,
    StatusMove,
    create_referral,
    move_referral,
)
from readerapp.scheduler.jobs import send_due
from readerapp.timeutil import to_local, utcnow

from .api_helpers import etag_of, is_problem
from .factories import Factory
from .groups_support import fresh
from .mail_support import Inbox, mail_settings, smtp_server

FIRST_NAME = "Philippa"


@dataclass
class Place:
    leader: User
    manager: User
    partner: User
    host: Organisation
    link_workers: Organisation  # a referrer partner of the group
    library: Organisation  # a partner, but not a referrer
    group: ReadingGroup
    sessions: list[ReadingSession]  # delivered, weekly, oldest first
    consenting: Participant
    refusing: Participant


@pytest.fixture
def regular_after_three(app: Flask) -> Iterator[None]:
    before = app.config["REFERRAL_REGULAR_SESSIONS"]
    app.config["REFERRAL_REGULAR_SESSIONS"] = 3
    yield
    app.config["REFERRAL_REGULAR_SESSIONS"] = before


@pytest.fixture
def place() -> Place:
    f = Factory()
    leader = f.user("reader_leader", display_name="Lee Leader")
    manager = f.user("manager")
    host = f.organisation(name="Riverside Trust", kind="nhs_trust", keep_names=True)
    link_workers = f.organisation(name="Northside Link Workers")
    library = f.organisation(name="Central Library")
    partner = f.user("partner_viewer", organisation_id=link_workers.id)
    venue = f.venue(host, name="Riverside Hub")
    group = f.group(venue, leader, name="Riverside Readers")
    f.partnership(host, group)
    f.partnership(link_workers, group, role="referrer")
    f.partnership(library, group, role="funder")
    start = utcnow().replace(microsecond=0) - timedelta(days=40)
    sessions = [f.session(group, start_dt=start + timedelta(days=7 * i)) for i in range(5)]
    consenting = f.participant(host, code="RV-001", display_name=f"{FIRST_NAME} Smith")
    refusing = f.participant(host, code="RV-002", display_name="Quentin Jones")
    day = to_local(start).date() - timedelta(days=1)
    record_consent(consenting, "referrer_updates", True, day, None)
    record_consent(consenting, "referrer_name", True, day, None)
    db.session.commit()
    return Place(
        leader, manager, partner, host, link_workers, library, group, sessions, consenting, refusing
    )


def _refer(p: Place, person: Participant, email: str | None = "lw@northside.example") -> Referral:
    referral = create_referral(
        ReferralInput(
            organisation_id=p.host.id,
            code=person.code,
            referred_on=to_local(p.sessions[0].start_dt).date() - timedelta(days=3),
            reason="loneliness",
            referrer_organisation_id=p.link_workers.id,
            referrer_name="Rowan Link",
            referrer_email=email,
        ),
        p.manager,
    )
    db.session.commit()
    return referral


def _log(p: Place, index: int, people: list[Participant]) -> None:
    """Save a session's register as the log form does."""
    session = db.session.get(ReadingSession, p.sessions[index].id)
    log_session(
        session,
        SessionLog(
            status="delivered",
            headcounts=Headcounts(participants=len(people) + 2, first_time=len(people)),
            register=RegisterInput(codes=tuple(x.code for x in people)),
            confirmed=True,
        ),
        expected_version=None,
        actor=p.leader,
    )
    db.session.commit()


def _status(referral_id: int) -> str:
    fresh()
    return db.session.get(Referral, referral_id).status


@pytest.mark.usefixtures("regular_after_three")
def test_the_register_alone_moves_a_referral_from_referred_to_regular(place: Place) -> None:
    referral = _refer(place, place.consenting)
    assert referral.status == "referred" and referral.first_session_on is None
    _log(place, 0, [place.refusing])  # someone else's register: no change
    assert _status(referral.id) == "referred"
    _log(place, 1, [place.consenting])
    assert _status(referral.id) == "first_session"
    assert (
        db.session.get(Referral, referral.id).first_session_on
        == to_local(place.sessions[1].start_dt).date()
    )
    _log(place, 2, [place.consenting, place.refusing])
    assert _status(referral.id) == "first_session"
    _log(place, 3, [place.consenting])
    assert _status(referral.id) == "regular"
    assert (
        db.session.get(Referral, referral.id).regular_on
        == to_local(place.sessions[3].start_dt).date()
    )
    # Saving a register again never moves it twice nor back.
    _log(place, 3, [place.consenting])
    assert _status(referral.id) == "regular"
    steps = db.session.scalars(
        sa.select(ReferralStep.step).where(ReferralStep.referral_id == referral.id)
    ).all()
    assert sorted(steps) == ["first_session", "regular"]


def _sweep(app: Flask, port: int) -> None:
    with mail_settings(app, port):
        send_due()


@pytest.mark.usefixtures("regular_after_three")
def test_the_referrer_hears_once_per_step_and_only_with_consent(app: Flask, place: Place) -> None:
    consented = _refer(place, place.consenting)
    refused = _refer(place, place.refusing)
    inbox = Inbox()
    with smtp_server(inbox) as port:
        _log(place, 0, [place.consenting, place.refusing])
        _sweep(app, port)
        _sweep(app, port)  # a second sweep sends nothing again
        assert len(inbox.received) == 1
        first = inbox.received[0]
        assert first["To"] == "lw@northside.example"
        body = first.get_payload()
        assert "RV-001" in body and FIRST_NAME in body and "first Shared Reading session" in body
        assert "Smith" not in body  # a first name only
        assert "RV-002" not in body and "Quentin" not in body
        _log(place, 0, [place.consenting, place.refusing])  # the same register saved again
        _log(place, 1, [place.consenting, place.refusing])
        _log(place, 2, [place.consenting, place.refusing])
        _sweep(app, port)
        assert len(inbox.received) == 2 and "regularly" in inbox.received[1].get_payload()
        move_referral(
            db.session.get(Referral, consented.id),
            StatusMove("ended", "Moved out of the area", to_local(utcnow()).date()),
        )
        db.session.commit()
        _sweep(app, port)
        _sweep(app, port)
    assert len(inbox.received) == 3 and "stopped coming" in inbox.received[2].get_payload()
    fresh()
    outcomes = dict(
        db.session.execute(
            sa.select(ReferralStep.step, ReferralStep.outcome).where(
                ReferralStep.referral_id == refused.id
            )
        ).all()
    )
    assert outcomes == {"first_session": "no_consent", "regular": "no_consent"}
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.kind == "referrer_update")
        )
        == 3
    )
    # Each decision is in the audit trail: three sent, two held back for want of consent.
    audited = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "referrer_update")
    ).all()
    assert sorted(e.changes["outcome"] for e in audited) == ["no_consent"] * 2 + ["sent"] * 3


def test_withdrawn_consent_stops_updates_and_no_address_sends_nothing(
    app: Flask, place: Place
) -> None:
    record_consent(place.consenting, "referrer_updates", False, to_local(utcnow()).date(), None)
    _refer(place, place.consenting)
    _refer(place, place.refusing, email=None)
    record_consent(place.refusing, "referrer_updates", True, to_local(utcnow()).date(), None)
    db.session.commit()
    inbox = Inbox()
    with smtp_server(inbox) as port:
        _log(place, 0, [place.consenting, place.refusing])
        _sweep(app, port)
    assert inbox.received == []
    fresh()
    assert sorted(db.session.scalars(sa.select(ReferralStep.outcome))) == [
        "no_consent",
        "no_contact",
    ]


def test_bad_referrals_are_refused_and_nothing_is_written(place: Place) -> None:
    good = dict(
        organisation_id=place.host.id,
        code="RV-001",
        referred_on=date(2026, 1, 5),
        reason="loneliness",
        referrer_organisation_id=place.link_workers.id,
    )
    for bad, field in (
        (good | {"code": "NOPE-9"}, "code"),
        (good | {"organisation_id": 999999}, "organisation_id"),
        (good | {"referrer_organisation_id": 999999}, "referrer_organisation_id"),
        (good | {"referrer_organisation_id": place.library.id}, "referrer_organisation_id"),
        (good | {"reason": "schizophrenia"}, "reason"),
        (good | {"referred_on": to_local(utcnow()).date() + timedelta(days=3)}, "referred_on"),
        (good | {"code": "RV-001", "new_code": True}, "code"),
        (good | {"referrer_email": "not an address"}, "referrer_email"),
    ):
        with pytest.raises(ReferralError) as refused:
            create_referral(ReferralInput(**bad), place.manager)
        assert refused.value.field == field
        db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    # A code issued for someone not seen yet; a self-referral.
    issued = create_referral(
        ReferralInput(
            **(good | {"code": "rv-new", "new_code": True, "referrer_organisation_id": None})
        ),
        place.manager,
    )
    assert issued.participant.code == "RV-NEW" and issued.referrer_organisation_id is None
    # Steps: a skip needs a reason, backwards is refused, ended needs a reason.
    with pytest.raises(ReferralError, match="skips a step"):
        move_referral(issued, StatusMove("regular"))
    with pytest.raises(ReferralError, match="why the referral ended"):
        move_referral(issued, StatusMove("ended"))
    move_referral(issued, StatusMove("first_session"))
    with pytest.raises(ReferralError, match="forward only"):
        move_referral(issued, StatusMove("referred"))
    move_referral(issued, StatusMove("ended", "Found paid work"))
    with pytest.raises(ReferralError, match="has ended"):
        move_referral(issued, StatusMove("regular", "x"))


def test_the_api_scopes_referrals_and_refuses_feedback_without_consent(
    app: Flask, place: Place
) -> None:
    other_leader = Factory().user("reader_leader")
    tokens = {
        "leader": create_token(place.leader).secret,
        "manager": create_token(place.manager).secret,
        "partner": create_token(place.partner).secret,
        "other_leader": create_token(other_leader).secret,
    }
    referred_on = (to_local(utcnow()).date() - timedelta(days=60)).isoformat()
    host_id, refusing_id = place.host.id, place.refusing.id
    db.session.commit()
    client = app.test_client()

    def auth(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens[role]}"}

    body = {
        "organisation_id": host_id,
        "code": "RV-002",
        "referred_on": referred_on,
        "reason": "low_mood",
        "referrer_email": "gp@surgery.example",
    }
    made = client.post("/api/v1/referrals", headers=auth("leader"), json=body)
    assert made.status_code == 201, made.get_data(as_text=True)
    referral_id = made.get_json()["id"]
    assert made.get_json()["code"] == "RV-002" and made.get_json()["status"] == "referred"
    for role, status in (("partner", 403), ("other_leader", 403)):
        assert client.get("/api/v1/referrals", headers=auth(role)).status_code in (200, status)
        answer = client.get(f"/api/v1/referrals/{referral_id}", headers=auth(role))
        assert answer.status_code == status and is_problem(answer)
    assert client.get("/api/v1/referrals", headers=auth("partner")).status_code == 403
    assert client.get("/api/v1/referrals", headers=auth("other_leader")).get_json() == []
    assert len(client.get("/api/v1/referrals", headers=auth("manager")).get_json()) == 1
    # A leader refers only to their own groups' organisations; unknown codes are refused.
    assert (
        client.post("/api/v1/referrals", headers=auth("other_leader"), json=body).status_code == 403
    )
    unknown = client.post("/api/v1/referrals", headers=auth("leader"), json=body | {"code": "ZZ-9"})
    assert unknown.status_code == 422 and "Unknown participant code" in unknown.get_json()["detail"]
    # Asking for the referrer to be told, without the person's consent: refused, nothing moves.
    item = f"/api/v1/referrals/{referral_id}"
    current = auth("leader") | {"If-Match": etag_of(client, item, auth("leader"))}
    asked = client.patch(
        item,
        headers=current,
        json={"status": "ended", "reason": "Did not come", "notify_referrer": True},
    )
    assert asked.status_code == 422 and "not consented" in asked.get_json()["detail"]
    jump = client.patch(item, headers=current, json={"status": "regular"})
    assert jump.status_code == 422 and "skips a step" in jump.get_json()["detail"]
    fresh()
    assert db.session.get(Referral, referral_id).status == "referred"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ReferralStep)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    assert refusing_id == db.session.get(Referral, referral_id).participant_id


def _csv_table(data: bytes, title: str) -> list[list[str]]:
    import csv
    import io

    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    start = rows.index([title]) + 2  # the title, then the header
    table = []
    for row in rows[start:]:
        if not row or not any(row):
            break
        table.append(row)
    return table


@pytest.mark.usefixtures("regular_after_three")
def test_referral_figures_in_the_report_match_the_register(app: Flask, place: Place) -> None:
    from readerapp.disclosure import Disclosure
    from readerapp.exports.partnership_report import build_report, protected
    from readerapp.exports.queries import ReportScope

    f = Factory()
    late = f.participant(place.host, code="RV-003")
    never = f.participant(place.host, code="RV-004")
    db.session.commit()
    referrals = [_refer(place, person) for person in (place.consenting, place.refusing, late)]
    self_referral = create_referral(
        ReferralInput(
            organisation_id=place.host.id,
            code=never.code,
            referred_on=referrals[0].referred_on,
            reason="bereavement",
        ),
        place.manager,
    )
    db.session.commit()
    # The registers: RV-001 at sessions 0-2 (regular), RV-002 at 0 only, RV-003 from 3 on.
    _log(place, 0, [place.consenting, place.refusing])
    _log(place, 1, [place.consenting])
    _log(place, 2, [place.consenting])
    _log(place, 3, [late])
    fresh()
    days = [to_local(s.start_dt).date() for s in place.sessions]
    referred_on = referrals[0].referred_on
    waits = sorted((d - referred_on).days for d in (days[0], days[0], days[3]))
    scope = ReportScope(referred_on - timedelta(days=1), to_local(utcnow()).date())
    report = build_report(scope, figures_only=False)
    by_source = {r.source: r for r in report.referrals}
    link, self_made, every = (
        by_source["Northside Link Workers"],
        by_source["Self-referral"],
        by_source["All sources"],
    )
    assert (link.received, link.first_session, link.regular) == (3, 3, 1)
    assert link.days_to_first == float(waits[1])  # the median
    assert (self_made.received, self_made.first_session, self_made.regular) == (1, 0, 0)
    assert self_made.days_to_first is None and self_made.to_first_session == 0
    assert (every.received, every.first_session, every.regular) == (4, 3, 1)
    assert every.to_first_session == 0.75 and every.to_regular == 0.25
    # For partners the small-number rule of the reports applies: 1-4 people show as fewer
    # than 5, and the median of so few is left out.
    shown = protected(report, Disclosure(5))
    link_shown = next(r for r in shown.referrals if r.source == "Northside Link Workers")
    assert link_shown.received == "fewer than 5" and link_shown.days_to_first is None
    assert link_shown.to_first_session is None
    assert self_referral.status == "referred"

    # The downloads carry the same figures: real for staff, protected for the partner.
    manager = app.test_client()
    partner = app.test_client()
    from .world import sign_in_as

    args = {"date_from": scope.date_from.isoformat(), "date_to": scope.date_to.isoformat()}
    sign_in_as(manager, db.session.get(User, place.manager.id))
    staff_csv = manager.get("/reports/partnership.csv", query_string=args, buffered=True)
    assert staff_csv.status_code == 200
    staff_rows = _csv_table(staff_csv.get_data(), "Referrals")
    assert ["Northside Link Workers", "3", "3", "1.0", "1", "0.333", str(float(waits[1]))] in (
        staff_rows
    )
    sign_in_as(partner, db.session.get(User, place.partner.id))
    own = args | {"organisation": str(place.link_workers.id)}
    partner_csv = partner.get("/reports/partnership.csv", query_string=own, buffered=True)
    assert partner_csv.status_code == 200
    (row,) = _csv_table(partner_csv.get_data(), "Referrals")
    few = "fewer than 5"
    assert row == ["Northside Link Workers", few, few, "", few, "", ""]
    page = partner.get("/reports/partnership", query_string=own).get_data(as_text=True)
    assert "referrals-table" in page and "RV-00" not in page


def test_erasure_clears_what_could_identify_the_person_in_referrals(place: Place) -> None:
    from readerapp.privacy import erase_participant

    referral = _refer(place, place.consenting)
    move_referral(referral, StatusMove("ended", "Moved to Leeds with her daughter"))
    db.session.commit()
    erase_participant(db.session.get(Participant, place.consenting.id))
    db.session.commit()
    fresh()
    kept = db.session.get(Referral, referral.id)
    assert kept.referrer_name is None and kept.referrer_email is None
    assert kept.ended_reason == "(erased)" and kept.reason == "loneliness"
    assert kept.referrer_organisation_id == place.link_workers.id
