"""Reading referrals. Callers restrict them first (``access.restrict_referrals``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import aliased, selectinload

from ..attendance.models import Participant
from ..extensions import db
from ..organisations.models import Organisation
from .models import Referral
from .operations import referrer_organisation_ids

LIST_LIMIT = 500
SELF_REFERRAL = "Self-referral"


def referrals_query() -> sa.Select:
    return (
        sa.select(Referral)
        .options(selectinload(Referral.participant), selectinload(Referral.referrer_organisation))
        .order_by(Referral.referred_on.desc(), Referral.id.desc())
    )


def listed(query: sa.Select) -> list[Referral]:
    return list(db.session.scalars(query.limit(LIST_LIMIT)))


def referrer_organisations() -> list[Organisation]:
    return list(
        db.session.scalars(
            sa.select(Organisation)
            .where(Organisation.id.in_(referrer_organisation_ids()))
            .order_by(sa.func.lower(Organisation.name))
        )
    )


def organisations_among(ids: sa.Select | None) -> list[Organisation]:
    query = sa.select(Organisation).order_by(sa.func.lower(Organisation.name))
    if ids is not None:
        query = query.where(Organisation.id.in_(ids))
    return list(db.session.scalars(query))


# --- Figures for the partnership report ---------------------------------------------------------


@dataclass(frozen=True)
class ReferralRow:
    source: str  # the referrer partner's name, or "Self-referral"
    referred_on: date
    first_session_on: date | None
    regular_on: date | None


def referral_rows(date_from: date, date_to: date, organisation_id: int | None) -> list[ReferralRow]:
    """Referrals made in the period (by their date), with how far each came. An organisation's
    scope: the referrals it made, and those of people who attend with it as their host."""
    Source = aliased(Organisation)
    query = (
        sa.select(
            Source.name,
            Referral.referred_on,
            Referral.first_session_on,
            Referral.regular_on,
        )
        .outerjoin(Source, Source.id == Referral.referrer_organisation_id)
        .where(Referral.referred_on >= date_from, Referral.referred_on <= date_to)
    )
    if organisation_id is not None:
        hosted = sa.select(Participant.id).where(Participant.organisation_id == organisation_id)
        query = query.where(
            sa.or_(
                Referral.referrer_organisation_id == organisation_id,
                Referral.participant_id.in_(hosted),
            )
        )
    return [
        ReferralRow(name or SELF_REFERRAL, referred, first, regular)
        for name, referred, first, regular in db.session.execute(query)
    ]
