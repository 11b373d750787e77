"""What each role gets on the catalogue of texts: everyone reads it, those who lead sessions add
to it, staff correct it."""

from .groups_support import released
from .route_table import Route, everyone, staff

LEADERS = {"leader": 200, "other_leader": 200}

BAD_MATERIAL = {"title": "", "author": "a" * 201, "kind": "limerick"}

ROUTES = [
    Route("materials.index", lambda w: "/materials", everyone()),
    Route("materials.create", lambda w: "/materials/new", staff() | LEADERS),
    Route(
        "materials.create",
        lambda w: released("/materials/new"),
        staff(400) | {"leader": 400, "other_leader": 400},
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
