"""Organisations, their venues, and their partnerships with groups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..groups.operations import (
    PartnershipData,
    add_partnership,
    remove_partnership,
    update_partnership,
)
from ..organisations.models import Organisation, Partnership, Venue
from .core import Blueprint, api_user, paginate_query
from .groups import managers_only
from .schemas import (
    OrganisationQuerySchema,
    OrganisationSchema,
    PartnershipQuerySchema,
    PartnershipSchema,
    PartnershipUpdateSchema,
    VenueQuerySchema,
    VenueSchema,
)
from .visibility import (
    restrict,
    visible_group_ids,
    visible_group_or_404,
    visible_or_404,
    visible_organisation_ids,
    visible_venue_ids,
)

organisations = Blueprint(
    "api_organisations",
    __name__,
    url_prefix="/api/v1/organisations",
    description="Partner organisations: trusts, prisons, libraries, funders, radio stations.",
)
venues = Blueprint(
    "api_venues", __name__, url_prefix="/api/v1/venues", description="Where groups meet."
)
partnerships = Blueprint(
    "api_partnerships",
    __name__,
    url_prefix="/api/v1/partnerships",
    description="Which organisation hosts, funds, refers to or broadcasts which group.",
)


@organisations.route("")
class Organisations(MethodView):
    @organisations.etag
    @organisations.arguments(OrganisationQuerySchema, location="query")
    @organisations.response(200, OrganisationSchema(many=True))
    @organisations.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Organisation]:
        """List the organisations you may see."""
        query = sa.select(Organisation).order_by(Organisation.name, Organisation.id)
        if "kind" in args:
            query = query.where(Organisation.kind == args["kind"])
        query = restrict(query, Organisation.id, visible_organisation_ids(api_user()))
        return paginate_query(query, pagination_parameters)


@organisations.route("/<int:organisation_id>")
class OrganisationItem(MethodView):
    @organisations.etag
    @organisations.response(200, OrganisationSchema)
    def get(self, organisation_id: int) -> Organisation:
        """One organisation."""
        ids = visible_organisation_ids(api_user())
        return visible_or_404(Organisation, organisation_id, ids)


@venues.route("")
class Venues(MethodView):
    @venues.etag
    @venues.arguments(VenueQuerySchema, location="query")
    @venues.response(200, VenueSchema(many=True))
    @venues.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Venue]:
        """List the venues of the groups you may see."""
        query = (
            sa.select(Venue).options(joinedload(Venue.organisation)).order_by(Venue.name, Venue.id)
        )
        if "organisation_id" in args:
            query = query.where(Venue.organisation_id == args["organisation_id"])
        query = restrict(query, Venue.id, visible_venue_ids(api_user()))
        return paginate_query(query, pagination_parameters)


@venues.route("/<int:venue_id>")
class VenueItem(MethodView):
    @venues.etag
    @venues.response(200, VenueSchema)
    def get(self, venue_id: int) -> Venue:
        """One venue."""
        return visible_or_404(Venue, venue_id, visible_venue_ids(api_user()))


@partnerships.route("")
class Partnerships(MethodView):
    @partnerships.etag
    @partnerships.arguments(PartnershipQuerySchema, location="query")
    @partnerships.response(200, PartnershipSchema(many=True))
    @partnerships.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[Partnership]:
        """List the partnerships of the groups you may see."""
        query = sa.select(Partnership).order_by(Partnership.group_id, Partnership.id)
        for key in ("organisation_id", "group_id", "role"):
            if key in args:
                query = query.where(getattr(Partnership, key) == args[key])
        query = restrict(query, Partnership.group_id, visible_group_ids(api_user()))
        return paginate_query(query, pagination_parameters)

    @partnerships.arguments(PartnershipSchema)
    @partnerships.response(201, PartnershipSchema)
    def post(self, values: dict[str, Any]) -> Partnership:
        """Add a partnership to a group (managers and admins)."""
        group = visible_group_or_404(api_user(), values["group_id"])
        managers_only()
        partnership = add_partnership(
            group,
            PartnershipData(
                organisation_id=values["organisation_id"],
                role=values["role"],
                start_date=values["start_date"],
                end_date=values["end_date"],
            ),
        )
        db.session.commit()
        return partnership


@partnerships.route("/<int:partnership_id>")
class PartnershipItem(MethodView):
    @partnerships.etag
    @partnerships.response(200, PartnershipSchema)
    def get(self, partnership_id: int) -> Partnership:
        """One partnership."""
        ids = visible_group_ids(api_user())
        return visible_or_404(Partnership, partnership_id, ids, key=lambda p: p.group_id)

    @partnerships.etag
    @partnerships.arguments(PartnershipUpdateSchema)
    @partnerships.response(200, PartnershipSchema)
    def patch(self, values: dict[str, Any], partnership_id: int) -> Partnership:
        """Change a partnership (managers and admins); fields left out keep their value.

        Needs If-Match.
        """
        partnership = _managed_partnership(partnership_id)
        partnerships.check_etag(partnership, PartnershipSchema)
        current = {
            "organisation_id": partnership.organisation_id,
            "role": partnership.role,
            "start_date": partnership.start_date,
            "end_date": partnership.end_date,
        }
        update_partnership(partnership, PartnershipData(**(current | values)))
        db.session.commit()
        return partnership

    @partnerships.etag
    @partnerships.response(204)
    def delete(self, partnership_id: int) -> None:
        """Remove a partnership (managers and admins). Needs If-Match."""
        partnership = _managed_partnership(partnership_id)
        partnerships.check_etag(partnership, PartnershipSchema)
        remove_partnership(partnership)
        db.session.commit()


def _managed_partnership(partnership_id: int) -> Partnership:
    ids = visible_group_ids(api_user())
    partnership = visible_or_404(Partnership, partnership_id, ids, key=lambda p: p.group_id)
    managers_only()
    return partnership
