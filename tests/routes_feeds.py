"""What each role gets on the feed and feed-management pages.

The feed itself needs no sign-in (the token is the credential). Admins and managers manage every
feed; a reader leader manages only the feed of their own sessions; partners manage none there,
and make, rotate and revoke their own addresses on their Calendar page.
"""

from readerapp.extensions import db
from readerapp.feeds.operations import create_token

from .route_table import ROLES, SIGN_IN, Route
from .world import World

MANAGERS_AND_LEADERS = {
    "admin": 200,
    "manager": 200,
    "leader": 200,
    "other_leader": 200,
    "anonymous": SIGN_IN,
}
# Acting on w.leader's own feed: staff and that leader, not another leader.
OWN_FEED = {"admin": 200, "manager": 200, "leader": 200, "anonymous": SIGN_IN}


def _feed_url(w: World) -> str:
    _, raw = create_token("organisation", w.host)
    db.session.commit()
    return f"/feeds/{raw}.ics"


def _own_feed_form(w: World) -> dict[str, object]:
    data = {"scope": "leader", "leader_id": str(w.leader.id), "label": "Mine"}
    # Reading w.leader began a transaction in the test's session; on SQLite it would hold the
    # write lock the request needs.
    db.session.commit()
    return data


def _partner_token(w: World, action: str) -> str:
    token, _ = create_token("organisation", w.host, created_by=w.partner)
    url = f"/my-calendar/{token.id}/{action}"
    db.session.commit()
    return url


def _leader_token(w: World, action: str) -> str:
    token, _ = create_token("leader", w.leader)
    url = f"/calendar-feeds/{token.id}/{action}"
    db.session.commit()
    return url


PARTNERS = {"partner": 200, "other_partner": 200, "anonymous": SIGN_IN}
# Acting on w.partner's own address: that partner alone.
OWN_ADDRESS = {"partner": 200, "anonymous": SIGN_IN}

ROUTES = [
    Route("partner_feeds.my_calendar", lambda w: "/my-calendar/", PARTNERS),
    Route(
        "partner_feeds.make_address",
        lambda w: "/my-calendar/organisation/address",
        PARTNERS,
        method="POST",
    ),
    Route(
        "partner_feeds.rotate",
        lambda w: _partner_token(w, "rotate"),
        OWN_ADDRESS,
        method="POST",
    ),
    Route(
        "partner_feeds.revoke",
        lambda w: _partner_token(w, "revoke"),
        {"partner": 302, "anonymous": SIGN_IN},
        method="POST",
    ),
    Route("feeds.feed", _feed_url, {r: 200 for r in ROLES}),
    Route("feeds.index", lambda w: "/calendar-feeds/", MANAGERS_AND_LEADERS),
    Route(
        "feeds.create",
        lambda w: "/calendar-feeds/",
        OWN_FEED,
        method="POST",
        data=_own_feed_form,
    ),
    Route(
        "feeds.create",
        lambda w: "/calendar-feeds/",
        {"admin": 400, "manager": 400, "anonymous": SIGN_IN},
        method="POST",
        data=lambda w: {"scope": "organisation", "organisation_id": ""},
    ),
    Route(
        "feeds.rotate",
        lambda w: _leader_token(w, "rotate"),
        OWN_FEED,
        method="POST",
    ),
    Route(
        "feeds.revoke",
        lambda w: _leader_token(w, "revoke"),
        {"admin": 302, "manager": 302, "leader": 302, "anonymous": SIGN_IN},
        method="POST",
    ),
]
