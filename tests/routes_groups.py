"""What each role gets on the group pages and the partnership forms."""

from .groups_support import released
from .route_table import SIGN_IN, Route, everyone, staff
from .world import World

# A group's page: staff, its own leader and the partner of its host; never the other leader or
# the other organisation's partner.
GROUP_VIEWERS = {"admin": 200, "manager": 200, "leader": 200, "partner": 200, "anonymous": SIGN_IN}


def _remove_partnership_url(w: World) -> str:
    # Worked out once per world: after the first removal the partnership is gone.
    if not hasattr(w, "remove_partnership_url"):
        partnership = w.other_group.partnerships[0]
        w.remove_partnership_url = (
            f"/groups/{w.other_group.id}/partnerships/{partnership.id}/remove"
        )
    return released(w.remove_partnership_url)


ROUTES = [
    Route("groups.index", lambda w: "/groups", everyone(200)),
    Route("groups.detail", lambda w: f"/groups/{w.group.id}", GROUP_VIEWERS),
    Route("groups.create", lambda w: "/groups/new", staff(200)),
    Route(
        "groups.create",
        lambda w: released("/groups/new"),
        staff(400),
        method="POST",
        data=lambda w: {"name": "", "venue_id": "999999", "first_date": "2026-02-30"},
    ),
    Route("groups.edit", lambda w: f"/groups/{w.group.id}/edit", staff(200)),
    Route(
        "groups.edit",
        lambda w: released(f"/groups/{w.group.id}/edit"),
        staff(400),
        method="POST",
        data=lambda w: {"name": "x" * 201, "frequency": "weekly", "start_time": "25:00"},
    ),
    Route("groups.partnership_new", lambda w: f"/groups/{w.group.id}/partnerships/new", staff()),
    Route(
        "groups.partnership_new",
        lambda w: released(f"/groups/{w.group.id}/partnerships/new"),
        staff(400),
        method="POST",
        data=lambda w: {"organisation_id": "999999", "role": "host", "start_date": "2026-13-01"},
    ),
    Route(
        "groups.partnership_edit",
        lambda w: f"/groups/{w.group.id}/partnerships/{w.group.partnerships[0].id}/edit",
        staff(200),
    ),
    Route(
        "groups.partnership_remove",
        _remove_partnership_url,
        # The first of the staff removes it; the second finds it gone.
        {"admin": (302, 404), "manager": (302, 404), "anonymous": SIGN_IN},
        method="POST",
    ),
]
