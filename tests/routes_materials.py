"""What each role gets on the catalogue of texts: staff only."""

from .groups_support import released
from .route_table import Route, staff

BAD_MATERIAL = {"title": "", "author": "a" * 201, "kind": "limerick"}

ROUTES = [
    Route("materials.index", lambda w: "/materials", staff()),
    Route("materials.create", lambda w: "/materials/new", staff()),
    Route(
        "materials.create",
        lambda w: released("/materials/new"),
        staff(400),
        method="POST",
        data=lambda w: BAD_MATERIAL,
    ),
    Route("materials.edit", lambda w: f"/materials/{w.material.id}/edit", staff()),
    Route(
        "materials.edit",
        lambda w: released(f"/materials/{w.material.id}/edit"),
        staff(400),
        method="POST",
        data=lambda w: BAD_MATERIAL,
    ),
]
