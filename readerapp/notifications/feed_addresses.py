"""Feed addresses sent to partner contacts by email.

A manager who sends an address never sees it: the address is made for the recipient and goes
straight into the outbox, labelled with whom it went to, so it can be revoked alone. The secret
reaches the message body only; nothing here logs, and the audit trail records the token's label
and a redacted hash.

Operations flush; the request that calls them commits.
"""

from __future__ import annotations

from ..feeds.models import FeedToken
from ..feeds.operations import create_token
from ..feeds.subscriptions import feed_title, subscribe_links
from ..organisations.models import Organisation
from ..users.models import User
from .models import OutboxMessage
from .outbox import queue_message

FEED_ADDRESS_KIND = "feed_address"


def send_feed_address(
    scope: str,
    organisation: Organisation,
    *,
    recipient_name: str,
    recipient_email: str,
    by: User,
) -> tuple[FeedToken, OutboxMessage]:
    """Make a new address for ``recipient_email`` and queue it to them through the outbox.

    The secret reaches the message body only: the token's label names the recipient, and
    nothing here logs."""
    token, raw = create_token(
        scope, organisation, created_by=by, label=f"Sent to {recipient_email}"
    )
    title = feed_title(scope, organisation)
    links = subscribe_links(raw, title)
    body = (
        f"Dear {recipient_name or recipient_email},\n\n"
        f"{by.display_name} has sent you the address of the calendar feed "
        f"\u201c{title}\u201d. Subscribe to it once and your calendar keeps itself up to date "
        "with the sessions and broadcasts it lists.\n\n"
        f"Google Calendar: open {links.google}\n"
        "  (or Other calendars > + > From URL, and paste the web address below)\n"
        f"Outlook: open {links.outlook}\n"
        f"Apple Calendar and other calendar apps: open {links.webcal}\n\n"
        f"Web address: {links.https}\n\n"
        "Anyone with this address can read the feed, so please do not forward it. The feed "
        "shows times, places, group names and the leader's first name, never anything about "
        "the people who take part. If it reaches the wrong person, ask us for a new one.\n"
    )
    message = queue_message(
        dedupe_key=f"{FEED_ADDRESS_KIND}:{token.id}",
        kind=FEED_ADDRESS_KIND,
        recipient=recipient_email,
        subject=f"Your calendar address: {title}",
        body=body,
    )
    assert message is not None, "a new token's dedupe key is new"
    return token, message
