"""Reading groups."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from sqlalchemy.orm import selectinload

from ..access import can_manage_groups
from ..extensions import db
from ..groups.models import ReadingGroup, group_coleader
from ..groups.operations import GroupData, create_group, update_group
from ..organisations.models import Venue
from .core import Blueprint, api_user, forbid, paginate_query
from .schemas import shared
from .schemas.groups import GroupInputSchema, GroupQuerySchema, GroupSchema, GroupUpdateSchema
from .visibility import restrict, visible_group_ids, visible_group_or_404

blp = Blueprint(
    "api_groups",
    __name__,
    url_prefix="/api/v1/groups",
    description="Reading groups: where and when they meet, and who leads them.",
)


def managers_only() -> None:
    if not can_manage_groups(api_user()):
        forbid("Only managers and admins may create and change groups and partnerships.")


def group_data(values: dict[str, Any], group: ReadingGroup | None = None) -> GroupData:
    """The operation's input: the values sent, over the group's current ones for a PATCH."""
    current: dict[str, Any] = {}
    if group is not None:
        current = {
            "name": group.name,
            "venue_id": group.venue_id,
            "rrule": group.rrule,
            "start_time": group.start_time,
            "duration_minutes": group.duration_minutes,
            "first_date": group.first_date,
            "tz_name": group.tz_name,
            "last_date": group.last_date,
            "lead_leader_id": group.lead_leader_id,
            "coleader_ids": [u.id for u in group.coleaders],
            "status": group.status,
            "capacity": group.capacity,
            "audience_notes": group.audience_notes,
            "room": group.room,
            "excluded": {d.day: d.reason for d in group.excluded_dates},
        }
    return GroupData(**(current | values))


@blp.route("")
class Groups(MethodView):
    @blp.etag
    @blp.arguments(GroupQuerySchema, location="query")
    @blp.response(200, GroupSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[ReadingGroup]:
        """List the groups you may see."""
        query = (
            sa.select(ReadingGroup)
            .options(
                selectinload(ReadingGroup.coleaders),
                # Whether a partner may see each group's room is the venue organisation's say.
                selectinload(ReadingGroup.venue).selectinload(Venue.organisation),
            )
            .order_by(ReadingGroup.name, ReadingGroup.id)
        )
        if "venue_id" in args:
            query = query.where(ReadingGroup.venue_id == args["venue_id"])
        if "status" in args:
            query = query.where(ReadingGroup.status == args["status"])
        if "leader_id" in args:
            coled = sa.select(group_coleader.c.group_id).where(
                group_coleader.c.user_id == args["leader_id"]
            )
            query = query.where(
                sa.or_(ReadingGroup.lead_leader_id == args["leader_id"], ReadingGroup.id.in_(coled))
            )
        query = restrict(query, ReadingGroup.id, visible_group_ids(api_user()))
        return paginate_query(query, pagination_parameters)

    @blp.arguments(GroupInputSchema)
    @blp.response(201, GroupSchema)
    def post(self, values: dict[str, Any]) -> ReadingGroup:
        """Create a group (managers and admins); its sessions are generated to the horizon."""
        managers_only()
        group = create_group(group_data(values))
        db.session.commit()
        return group


@blp.route("/<int:group_id>")
class GroupItem(MethodView):
    @blp.etag
    @blp.response(200, GroupSchema)
    def get(self, group_id: int) -> ReadingGroup:
        """One group."""
        return visible_group_or_404(api_user(), group_id)

    @blp.etag
    @blp.arguments(GroupUpdateSchema(partial=True))
    @blp.response(200, GroupSchema)
    def patch(self, values: dict[str, Any], group_id: int) -> ReadingGroup:
        """Change a group (managers and admins); fields left out keep their value.

        Future sessions nobody has touched follow the new pattern. Needs If-Match.
        """
        group = visible_group_or_404(api_user(), group_id)
        managers_only()
        blp.check_etag(group, shared(GroupSchema))
        update_group(group, group_data(values, group))
        db.session.commit()
        return group
