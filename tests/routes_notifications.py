"""The outbox is for admins only; staff send feed addresses to partner contacts through it."""

from readerapp.extensions import db

from .route_table import Route, admins, staff
from .world import World


def _send_to_partner(w: World) -> dict[str, object]:
    data = {"recipient": f"user:{w.partner.id}", "feed": "organisation"}
    db.session.commit()  # reading w.partner began a transaction (SQLite's write lock)
    return data


ROUTES = [
    Route("notifications.outbox", lambda w: "/outbox/", admins()),
    Route("notifications.message", lambda w: "/outbox/999999", admins(404)),
    Route("feed_addresses.send", lambda w: "/calendar-feeds/send", staff()),
    Route(
        "feed_addresses.send",
        lambda w: "/calendar-feeds/send",
        staff(302),
        method="POST",
        data=_send_to_partner,
    ),
]
