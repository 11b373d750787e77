"""The page where staff send a feed address to a partner contact by email, through the
outbox. Who may do it: readerapp.access."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import STAFF, may_send_feed_address, require, roles_required
from ..errors import FieldError
from ..extensions import db
from ..feeds.models import FeedToken
from ..feeds.scopes import FeedScope
from ..feeds.subscriptions import feed_title
from ..organisations.models import Organisation
from ..users.models import Role, User
from ..web.saving import save_form
from .feed_address_form import SendFeedAddressForm
from .feed_addresses import send_feed_address

bp = Blueprint("feed_addresses", __name__, template_folder="templates")


def _contacts() -> dict[str, tuple[Organisation, str, str]]:
    """Every partner contact, by choice value: (organisation, name, email)."""
    contacts: dict[str, tuple[Organisation, str, str]] = {}
    organisations = {
        o.id: o for o in db.session.scalars(sa.select(Organisation).order_by(Organisation.name))
    }
    for o in organisations.values():
        if o.contact_email:
            contacts[f"contact:{o.id}"] = (o, o.contact_name or "", o.contact_email)
    partners = db.session.scalars(
        sa.select(User)
        .where(
            User.role == Role.PARTNER_VIEWER,
            User.active.is_(True),
            User.organisation_id.is_not(None),
        )
        .order_by(User.display_name)
    )
    for u in partners:
        contacts[f"user:{u.id}"] = (organisations[u.organisation_id], u.display_name, u.email)
    return dict(sorted(contacts.items(), key=lambda item: (item[1][0].name, item[1][1])))


def _send_page(form: SendFeedAddressForm, status: int = 200) -> ResponseReturnValue:
    return render_template("notifications/send_feed_address.html", form=form), status


@bp.route("/calendar-feeds/send", methods=["GET", "POST"])
@roles_required(STAFF)
def send() -> ResponseReturnValue:
    require(may_send_feed_address(current_user))
    contacts = _contacts()
    form = SendFeedAddressForm()
    form.recipient.choices = [SelectChoice("", "Choose…")] + [
        SelectChoice(value, f"{org.name}: {name or email} <{email}>")
        for value, (org, name, email) in contacts.items()
    ]
    if not form.validate_on_submit():
        return _send_page(form, 400 if form.is_submitted() else 200)
    organisation, name, email = contacts[form.recipient.data]
    scope = form.feed.data

    def queue() -> FeedToken:
        if scope == FeedScope.STATION and not organisation.is_station:
            raise FieldError(f"{organisation.name} is not a radio station.", "feed")
        token, _ = send_feed_address(
            scope, organisation, recipient_name=name, recipient_email=email, by=current_user
        )
        return token

    saved = save_form(form, queue, field="recipient")
    if not saved:
        return _send_page(form, saved.status)
    flash(
        f"A new address of {feed_title(scope, organisation)} is in the outbox for {email}.",
        "success",
    )
    return redirect(url_for("feeds.index"))
