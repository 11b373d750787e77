"""Reading referrals. Callers restrict them first (``access.restrict_referrals``)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..organisations.models import Organisation
from .models import Referral
from .operations import referrer_organisation_ids

LIST_LIMIT = 500


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
