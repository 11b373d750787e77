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
from ..organisations.operations import (
    OrganisationData,
    VenueData,
    save_organisation,
    save_venue,
)
from .core import Blueprint, api_user, paginate_query, staff_only
from .groups import managers_only
from .schemas import shared
from .schemas.organisations import (
    OrganisationInputSchema,
    OrganisationQuerySchema,
    OrganisationSchema,
    OrganisationUpdateSchema,
    PartnershipQuerySchema,
    PartnershipSchema,
    PartnershipUpdateSchema,
    VenueInputSchema,
    VenueQuerySchema,
    VenueSchema,
    VenueUpdateSchema,
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

ORGANISATIONS = "add and change organisations and venues"


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

    @organisations.arguments(OrganisationInputSchema)
    @organisations.response(201, OrganisationSchema)
    def post(self, values: dict[str, Any]) -> Organisation:
        """Add an organisation (managers and admins). Names are unique, whatever their case."""
        staff_only(ORGANISATIONS)
        organisation = save_organisation(None, OrganisationData(**values))
        db.session.commit()
        return organisation


def organisation_data(values: dict[str, Any], organisation: Organisation) -> OrganisationData:
    """The operation's input: the values sent over the organisation's current ones."""
    current = {
        "name": organisation.name,
        "kind": organisation.kind,
        "contact_name": organisation.contact_name,
        "contact_email": organisation.contact_email,
        "contact_phone": organisation.contact_phone,
        "share_location_detail": organisation.share_location_detail,
        "prisons_reached": organisation.prisons_reached,
        "keep_names": organisation.keep_names,
    }
    return OrganisationData(**(current | values))


@organisations.route("/<int:organisation_id>")
class OrganisationItem(MethodView):
    @organisations.etag
    @organisations.response(200, OrganisationSchema)
    def get(self, organisation_id: int) -> Organisation:
        """One organisation."""
        ids = visible_organisation_ids(api_user())
        return visible_or_404(Organisation, organisation_id, ids)

    @organisations.etag
    @organisations.arguments(OrganisationUpdateSchema(partial=True))
    @organisations.response(200, OrganisationSchema)
    def patch(self, values: dict[str, Any], organisation_id: int) -> Organisation:
        """Change an organisation (managers and admins); fields left out keep their value.

        A station with programmes stays a radio station. Needs If-Match.
        """
        ids = visible_organisation_ids(api_user())
        organisation = visible_or_404(Organisation, organisation_id, ids)
        staff_only(ORGANISATIONS)
        organisations.check_etag(organisation, shared(OrganisationSchema))
        save_organisation(organisation, organisation_data(values, organisation))
        db.session.commit()
        return organisation


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

    @venues.arguments(VenueInputSchema)
    @venues.response(201, VenueSchema)
    def post(self, values: dict[str, Any]) -> Venue:
        """Add a venue to an organisation (managers and admins); its names are unique."""
        staff_only(ORGANISATIONS)
        venue = save_venue(None, VenueData(**values))
        db.session.commit()
        return venue


@venues.route("/<int:venue_id>")
class VenueItem(MethodView):
    @venues.etag
    @venues.response(200, VenueSchema)
    def get(self, venue_id: int) -> Venue:
        """One venue."""
        return visible_or_404(Venue, venue_id, visible_venue_ids(api_user()))

    @venues.etag
    @venues.arguments(VenueUpdateSchema(partial=True))
    @venues.response(200, VenueSchema)
    def patch(self, values: dict[str, Any], venue_id: int) -> Venue:
        """Change a venue (managers and admins); fields left out keep their value.

        Needs If-Match.
        """
        venue = visible_or_404(Venue, venue_id, visible_venue_ids(api_user()))
        staff_only(ORGANISATIONS)
        venues.check_etag(venue, shared(VenueSchema))
        current = {
            "organisation_id": venue.organisation_id,
            "name": venue.name,
            "setting_type": venue.setting_type,
            "address": venue.address,
            "unit": venue.unit,
        }
        save_venue(venue, VenueData(**(current | values)))
        db.session.commit()
        return venue


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
        partnerships.check_etag(partnership, shared(PartnershipSchema))
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
        partnerships.check_etag(partnership, shared(PartnershipSchema))
        remove_partnership(partnership)
        db.session.commit()


def _managed_partnership(partnership_id: int) -> Partnership:
    ids = visible_group_ids(api_user())
    partnership = visible_or_404(Partnership, partnership_id, ids, key=lambda p: p.group_id)
    managers_only()
    return partnership
