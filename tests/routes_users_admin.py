"""What each role gets on the user administration pages: admins only."""

from .groups_support import released
from .route_table import SIGN_IN, Route, admins

ROUTES = [
    Route("users_admin.index", lambda w: "/admin/users", admins()),
    Route("users_admin.create", lambda w: "/admin/users/new", admins()),
    Route(
        "users_admin.create",
        lambda w: released("/admin/users/new"),
        admins(400),
        method="POST",
        data=lambda w: {"email": "nope", "display_name": "", "role": "overlord"},
    ),
    Route("users_admin.edit", lambda w: f"/admin/users/{w.leader.id}/edit", admins()),
    Route(
        "users_admin.edit",
        lambda w: released(f"/admin/users/{w.leader.id}/edit"),
        admins(400),
        method="POST",
        data=lambda w: {"display_name": "", "role": "partner_viewer", "organisation_id": "x"},
    ),
    Route(
        "users_admin.deactivate",
        lambda w: released(f"/admin/users/{w.other_partner.id}/deactivate"),
        # Once the admin has deactivated them, the other partner is signed out at once.
        admins(302) | {"other_partner": SIGN_IN},
        method="POST",
    ),
    Route(
        "users_admin.reactivate",
        lambda w: released(f"/admin/users/{w.other_partner.id}/reactivate"),
        admins(302),
        method="POST",
    ),
]
