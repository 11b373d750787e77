"""The outbox is for admins only."""

from .route_table import Route, admins

ROUTES = [
    Route("notifications.outbox", lambda w: "/outbox/", admins()),
    Route("notifications.message", lambda w: "/outbox/999999", admins(404)),
]
