"""What each role gets on the partner organisation and venue pages: staff change them; anyone who
may see an organisation (their own, or one around a group they see) reads its page."""

from .groups_support import released
from .route_table import Route, staff

BAD_ORGANISATION = {"name": "", "kind": "spaceship", "contact_email": "not an email"}
BAD_VENUE = {"name": "v" * 201, "setting_type": "moon_base"}

ROUTES = [
    Route("organisations.index", lambda w: "/organisations", staff()),
    Route("organisations.create", lambda w: "/organisations/new", staff()),
    Route(
        "organisations.create",
        lambda w: released("/organisations/new"),
        staff(400),
        method="POST",
        data=lambda w: BAD_ORGANISATION,
    ),
    Route(
        "organisations.detail",
        lambda w: f"/organisations/{w.host.id}",
        staff() | {"leader": 200, "partner": 200},
    ),
    Route("organisations.edit", lambda w: f"/organisations/{w.host.id}/edit", staff()),
    Route(
        "organisations.edit",
        lambda w: released(f"/organisations/{w.host.id}/edit"),
        staff(400),
        method="POST",
        data=lambda w: BAD_ORGANISATION,
    ),
    Route("organisations.venue_new", lambda w: f"/organisations/{w.host.id}/venues/new", staff()),
    Route(
        "organisations.venue_new",
        lambda w: released(f"/organisations/{w.host.id}/venues/new"),
        staff(400),
        method="POST",
        data=lambda w: BAD_VENUE,
    ),
    Route(
        "organisations.venue_edit",
        lambda w: f"/organisations/{w.host.id}/venues/{w.venue.id}/edit",
        staff(),
    ),
]
