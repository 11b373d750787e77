"""Partners' own feed addresses, and the links that subscribe a calendar app to an address.

A token's secret is stored hashed, so nobody can be shown an address twice. A partner therefore
makes its own address on its Calendar page and sees it then; making it again (or rotating it)
gives a new address and retires the old one, so each partner holds at most one live address per
feed. (Staff sending an address by email: ``readerapp.notifications.feed_addresses``.)

Operations flush; the request that calls them commits.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

import sqlalchemy as sa

from ..extensions import db
from ..organisations.models import Organisation
from ..timeutil import utcnow
from ..users.models import User
from .models import FeedToken
from .operations import create_token, feed_url, revoke_token, webcal_url
from .scopes import FeedScope

GOOGLE_SUBSCRIBE = "https://calendar.google.com/calendar/render"
OUTLOOK_SUBSCRIBE = "https://outlook.live.com/calendar/0/addfromweb"


@dataclass(frozen=True)
class SubscribeLinks:
    """One feed address in the forms calendar apps take it."""

    https: str  # Google's "From URL", Outlook on the web, anything that reads a web address
    webcal: str  # calendar apps on phones and desktops subscribe (not import) from this
    google: str
    outlook: str


def subscribe_links(raw: str, calendar_name: str) -> SubscribeLinks:
    https = feed_url(raw)
    webcal = webcal_url(https)
    return SubscribeLinks(
        https=https,
        webcal=webcal,
        google=f"{GOOGLE_SUBSCRIBE}?{urlencode({'cid': webcal}, quote_via=quote)}",
        outlook=f"{OUTLOOK_SUBSCRIBE}?"
        + urlencode({"url": https, "name": calendar_name}, quote_via=quote),
    )


def feed_title(scope: str, organisation: Organisation) -> str:
    """What a partner calls the feed: the name its calendar app shows too."""
    if scope == FeedScope.STATION:
        return f"{organisation.name}: Shared Reading broadcasts"
    return f"Shared Reading: {organisation.name}"


# --- a partner's own addresses ----------------------------------------------------------------


def own_tokens(user: User) -> list[FeedToken]:
    """``user``'s live addresses of its organisation's feeds, oldest first."""
    return list(
        db.session.scalars(
            sa.select(FeedToken)
            .where(
                FeedToken.created_by_id == user.id,
                FeedToken.organisation_id == user.organisation_id,
                FeedToken.scope.in_([FeedScope.ORGANISATION, FeedScope.STATION]),
                FeedToken.revoked_at.is_(None),
            )
            .order_by(FeedToken.id)
        )
    )


def make_own_address(user: User, scope: str, organisation: Organisation) -> tuple[FeedToken, str]:
    """A new address of ``organisation``'s ``scope`` feed for ``user``; any address the user
    had for that feed stops working (one live address each: the page can then say which)."""
    now = utcnow()
    for token in own_tokens(user):
        if token.scope == scope:
            revoke_token(token, now=now)
    return create_token(scope, organisation, created_by=user, label=f"{user.display_name}'s own")
