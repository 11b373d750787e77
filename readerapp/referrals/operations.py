"""Writes to referrals. Operations flush; the request or job commits.

A referral's status moves forward from the register alone (``follow_register``, called by
attendance whenever a register changes): the first session attended on or after the referral
date, then regular after REFERRAL_REGULAR_SESSIONS sessions. A leader or manager ends it (with
the reason), or sets a step by hand — with a reason when it skips one. Each step reached is a
``ReferralStep``; the scheduler tells the referrer of it once, with the person's consent
(``referrer_update``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from ..attendance.models import Participant, ParticipantAttendance
from ..attendance.operations import normalise_code
from ..errors import FieldError
from ..extensions import db
from ..limits import YEARS
from ..organisations.models import Organisation, Partnership
from ..outcomes.answers import consent_in_force
from ..sessions.models import ReadingSession
from ..timeutil import to_local, utcnow
from ..users.models import User
from .limits import REFERRER_EMAIL, REFERRER_NAME, STATUS_REASON
from .models import REFERRAL_STATUSES, STATUS_LABELS, Referral, ReferralStep


class ReferralError(FieldError):
    """A referral cannot be saved or moved as asked; ``field`` names the input at fault."""


@dataclass(frozen=True)
class ReferralInput:
    """A referral of the person with ``code`` in ``organisation_id`` (their host organisation).
    ``new_code`` issues the code for someone not seen yet; ``referrer_organisation_id`` None is
    a self-referral."""

    organisation_id: int
    code: str
    referred_on: date
    reason: str
    referrer_organisation_id: int | None = None
    referrer_name: str | None = None
    referrer_email: str | None = None
    new_code: bool = False


def reasons() -> tuple[str, ...]:
    return tuple(current_app.config["REFERRAL_REASONS"])


def reason_label(reason: str) -> str:
    return reason.replace("_", " ").capitalize()


def regular_after() -> int:
    return int(current_app.config["REFERRAL_REGULAR_SESSIONS"])


def local_today() -> date:
    return to_local(utcnow()).date()


def referrer_organisation_ids() -> sa.Select:
    """Organisations that are a referrer partner of some group."""
    return sa.select(Partnership.organisation_id).where(Partnership.role == "referrer")


def _text(value: str | None, limit: int, field: str, label: str) -> str | None:
    value = (value or "").strip() or None
    if value is not None and len(value) > limit:
        raise ReferralError(f"The {label} must be at most {limit} characters.", field)
    return value


def _day(value: date, field: str, label: str) -> date:
    if not YEARS.min <= value.year <= YEARS.max:
        raise ReferralError(f"The {label} must be between {YEARS.min} and {YEARS.max}.", field)
    if value > local_today():
        raise ReferralError(f"The {label} cannot be in the future.", field)
    return value


def _participant(data: ReferralInput) -> Participant:
    organisation = db.session.get(Organisation, data.organisation_id)
    if organisation is None:
        raise ReferralError(f"There is no organisation {data.organisation_id}.", "organisation_id")
    try:
        code = normalise_code(data.code, "code")
    except FieldError as exc:
        raise ReferralError(exc.message, "code") from None
    person = db.session.scalars(
        sa.select(Participant).where(
            Participant.organisation_id == organisation.id,
            sa.func.upper(Participant.code) == code,
        )
    ).first()
    if person is None and not data.new_code:
        raise ReferralError(
            f"Unknown participant code {code} at {organisation.name}. Check it, or issue it as "
            "a new code for someone not seen yet.",
            "code",
        )
    if person is not None and data.new_code:
        raise ReferralError(
            f"{code} is already issued at {organisation.name}: refer that person instead.",
            "code",
            conflict=True,
        )
    if person is not None and person.erased_at is not None:
        raise ReferralError("This participant's data has been erased.", "code")
    if person is None:
        person = Participant(organisation_id=organisation.id, code=code)
        db.session.add(person)
        db.session.flush()
    return person


def create_referral(data: ReferralInput, actor: User | None) -> Referral:
    """Record a referral, before or after the person's first session; what the register already
    shows since the referral date moves its status at once."""
    if data.reason not in reasons():
        raise ReferralError(f"Choose a reason from: {', '.join(reasons())}.", "reason")
    referred_on = _day(data.referred_on, "referred_on", "referral date")
    source_id = data.referrer_organisation_id
    if source_id is not None:
        source = db.session.get(Organisation, source_id)
        if source is None:
            raise ReferralError(
                f"There is no organisation {source_id}.", "referrer_organisation_id"
            )
        is_referrer = db.session.scalar(
            sa.select(sa.literal(source_id).in_(referrer_organisation_ids()))
        )
        if not is_referrer:
            raise ReferralError(
                f"{source.name} is not a referrer partner: add it to a group as a referrer, or "
                "record a self-referral.",
                "referrer_organisation_id",
            )
    name = _text(data.referrer_name, REFERRER_NAME, "referrer_name", "referrer's name")
    email = _text(data.referrer_email, REFERRER_EMAIL, "referrer_email", "referrer's email")
    if email is not None:
        try:
            email = validate_email(email, check_deliverability=False).normalized
        except EmailNotValidError as exc:
            raise ReferralError(f"Not a valid email address: {exc}", "referrer_email") from exc
    person = _participant(data)
    referral = Referral(
        participant_id=person.id,
        referrer_organisation_id=source_id,
        referrer_name=name,
        referrer_email=email,
        referred_on=referred_on,
        reason=data.reason,
        status="referred",
        created_by_id=actor.id if actor is not None else None,
    )
    db.session.add(referral)
    db.session.flush()
    _advance(referral)
    return referral


# --- Following the register ----------------------------------------------------------------------


def attended_days(participant_id: int, since: date) -> list[date]:
    """The local days of the sessions the person attended on or after ``since``, in order."""
    rows = db.session.execute(
        sa.select(ReadingSession.start_dt, ReadingSession.tz_name)
        .join(ParticipantAttendance, ParticipantAttendance.session_id == ReadingSession.id)
        .where(ParticipantAttendance.participant_id == participant_id)
        .order_by(ReadingSession.start_dt)
    ).all()
    days = [to_local(start, tz).date() for start, tz in rows]
    return [day for day in days if day >= since]


def _reach(referral: Referral, step: str, day: date) -> None:
    """Record that ``referral`` reached ``step`` (once: a step is never reached twice)."""
    exists = db.session.scalar(
        sa.select(ReferralStep.id).where(
            ReferralStep.referral_id == referral.id, ReferralStep.step == step
        )
    )
    if exists is None:
        db.session.add(
            ReferralStep(referral_id=referral.id, step=step, happened_on=day, reached_at=utcnow())
        )


def _advance(referral: Referral) -> None:
    """Move an open referral forward to what the register shows. Never backwards: a step the
    referrer was told of stays told; a corrected register shows in the figures' dates only
    when it moves a step forward."""
    if referral.status == "ended":
        return
    days = attended_days(referral.participant_id, referral.referred_on)
    if days and referral.first_session_on is None:
        referral.first_session_on = days[0]
        if referral.status == "referred":
            referral.status = "first_session"
        _reach(referral, "first_session", days[0])
    needed = regular_after()
    if len(days) >= needed and referral.regular_on is None:
        referral.regular_on = days[needed - 1]
        referral.status = "regular"
        _reach(referral, "regular", days[needed - 1])
    db.session.flush()


def follow_register(participant_ids: set[int]) -> None:
    """A register changed for these people: move their open referrals on."""
    if not participant_ids:
        return
    referrals = db.session.scalars(
        sa.select(Referral)
        .where(Referral.participant_id.in_(sorted(participant_ids)), Referral.status != "ended")
        .order_by(Referral.id)
    ).all()
    for referral in referrals:
        _advance(referral)


# --- Moving a referral by hand -------------------------------------------------------------------


@dataclass(frozen=True)
class StatusMove:
    status: str
    reason: str | None = None
    on_date: date | None = None


def move_referral(referral: Referral, move: StatusMove) -> Referral:
    """End a referral (with the reason), or set a later step by hand: the next step freely, a
    step that skips one only with the reason (e.g. sessions attended before the register)."""
    if move.status not in REFERRAL_STATUSES:
        raise ReferralError(f"Choose one of: {', '.join(REFERRAL_STATUSES)}.", "status")
    if referral.status == "ended":
        raise ReferralError("This referral has ended; it cannot change.", "status", conflict=True)
    reason = _text(move.reason, STATUS_REASON, "reason", "reason")
    day = _day(move.on_date or local_today(), "on_date", "date")
    if day < referral.referred_on:
        raise ReferralError("The date cannot be before the referral.", "on_date")
    if move.status == "ended":
        if reason is None:
            raise ReferralError("Say why the referral ended.", "reason")
        referral.status, referral.ended_on, referral.ended_reason = "ended", day, reason
        _reach(referral, "ended", day)
        db.session.flush()
        return referral
    order = REFERRAL_STATUSES.index
    if order(move.status) <= order(referral.status):
        raise ReferralError(
            f"The referral is already “{STATUS_LABELS[referral.status]}”: it moves forward only.",
            "status",
            conflict=True,
        )
    if order(move.status) - order(referral.status) > 1 and reason is None:
        raise ReferralError(
            f"Moving from “{STATUS_LABELS[referral.status]}” to “{STATUS_LABELS[move.status]}” "
            "skips a step: say why.",
            "reason",
        )
    if referral.first_session_on is None:
        referral.first_session_on = day
        _reach(referral, "first_session", day)
    if move.status == "regular":
        referral.regular_on = day
        _reach(referral, "regular", day)
    referral.status = move.status
    referral.status_note = reason
    db.session.flush()
    return referral


def forget_referral_details(participant_id: int) -> int:
    """On erasure: clear what could identify the person in their referrals (the referrer's
    contact, the free-text reasons), keeping what the figures count. Returns how many."""
    referrals = db.session.scalars(
        sa.select(Referral).where(Referral.participant_id == participant_id)
    ).all()
    for referral in referrals:
        referral.referrer_name = referral.referrer_email = referral.status_note = None
        if referral.ended_reason is not None:
            referral.ended_reason = "(erased)"  # an ended referral keeps a reason
    db.session.flush()
    return len(referrals)


# --- Telling the referrer ------------------------------------------------------------------------

STEP_WORDS = {
    "first_session": "came to their first Shared Reading session",
    "regular": "now comes to Shared Reading regularly",
    "ended": "has stopped coming to Shared Reading",
}


@dataclass(frozen=True)
class ReferrerUpdate:
    recipient: str
    subject: str
    body: str


def consent_to_update(referral: Referral) -> bool:
    return consent_in_force(referral.participant_id, "referrer_updates")


def update_for(step: ReferralStep) -> ReferrerUpdate | str:
    """The message for the referrer about ``step``, or why none is sent ("no_contact",
    "no_consent"). By code; with the first name only when the person consented to that too."""
    referral = step.referral
    if not referral.referrer_email:
        return "no_contact"
    if not consent_to_update(referral):
        return "no_consent"
    person = referral.participant
    who = person.code
    if person.display_name and consent_in_force(person.id, "referrer_name"):
        who = f"{person.display_name.split()[0]} ({person.code})"
    greeting = f"Hello {referral.referrer_name}," if referral.referrer_name else "Hello,"
    return ReferrerUpdate(
        recipient=referral.referrer_email,
        subject=f"Your referral {person.code}: {STATUS_LABELS[step.step].lower()}",
        body=(
            f"{greeting}\n\n"
            f"An update on the person you referred on {referral.referred_on:%-d %B %Y}: "
            f"{who} {STEP_WORDS[step.step]} ({step.happened_on:%-d %B %Y}).\n\n"
            "They agreed that you would be told. Thank you for the referral.\n"
        ),
    )


def unhandled_step_ids() -> list[int]:
    return list(
        db.session.scalars(
            sa.select(ReferralStep.id)
            .where(ReferralStep.handled_at.is_(None))
            .order_by(ReferralStep.id)
        )
    )


def claim_step(step_id: int) -> ReferralStep | None:
    """Claim a step to tell the referrer of, once: whoever sets ``handled_at`` first has it."""
    now = utcnow()
    claimed = db.session.execute(
        sa.update(ReferralStep)
        .where(ReferralStep.id == step_id, ReferralStep.handled_at.is_(None))
        .values(handled_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:
        return None
    step = db.session.get(ReferralStep, step_id)
    if step is not None:
        db.session.refresh(step)
    return step


def check_feedback_allowed(referral: Referral) -> None:
    """Refuse, clearly, to send an update the person has not consented to."""
    if not referral.referrer_email:
        raise ReferralError("No referrer's email is recorded for this referral.", "referrer_email")
    if not consent_to_update(referral):
        raise ReferralError(
            "The person has not consented to updates to the referrer: nothing was sent.",
            "consent",
        )
