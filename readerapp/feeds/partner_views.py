"""Partners' Calendar page: their own addresses of their organisation's feeds, with the links
that subscribe a calendar app. Who may do what: readerapp.access."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..access import (
    SELF_SUBSCRIBERS,
    may_manage_own_partner_token,
    partner_feed_scopes,
    require,
    roles_required,
)
from ..extensions import db
from ..organisations.models import Organisation
from ..web.saving import save_form
from .models import FeedToken
from .operations import revoke_token, rotate_token
from .subscriptions import (
    feed_title,
    make_own_address,
    own_tokens,
    subscribe_links,
)

bp = Blueprint("partner_feeds", __name__, template_folder="templates")

# The secret is on the page that shows it only: keep it out of every cache.
NO_STORE = {"Cache-Control": "no-store"}


def _calendar_page(shown: tuple[FeedToken, str] | None = None) -> ResponseReturnValue:
    tokens = {t.scope: t for t in own_tokens(current_user)}
    feeds = [
        {"scope": scope, "title": feed_title(scope, org), "token": tokens.get(scope)}
        for scope, org in partner_feed_scopes(current_user)
    ]
    links, title = None, None
    if shown is not None:
        token, raw = shown
        title = feed_title(token.scope, token.organisation)
        links = subscribe_links(raw, title)
    html = render_template("feeds/my_calendar.html", feeds=feeds, links=links, shown_title=title)
    return html, 200, NO_STORE


def _own_feed(scope: str) -> Organisation:
    for allowed, organisation in partner_feed_scopes(current_user):
        if allowed == scope:
            return organisation
    abort(404)


def _own_token(token_id: int) -> FeedToken:
    token = db.session.get(FeedToken, token_id)
    if token is None or token.revoked_at is not None:
        abort(404)
    require(may_manage_own_partner_token(current_user, token))
    return token


@bp.get("/my-calendar/")
@roles_required(SELF_SUBSCRIBERS)
def my_calendar() -> ResponseReturnValue:
    return _calendar_page()


@bp.post("/my-calendar/<scope>/address")
@roles_required(SELF_SUBSCRIBERS)
def make_address(scope: str) -> ResponseReturnValue:
    organisation = _own_feed(scope)
    saved = save_form(None, lambda: make_own_address(current_user, scope, organisation))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("partner_feeds.my_calendar"))
    return _calendar_page(saved.value)


@bp.post("/my-calendar/<int:token_id>/rotate")
@roles_required(SELF_SUBSCRIBERS)
def rotate(token_id: int) -> ResponseReturnValue:
    token = _own_token(token_id)
    saved = save_form(None, lambda: rotate_token(token, by=current_user))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("partner_feeds.my_calendar"))
    return _calendar_page(saved.value)


@bp.post("/my-calendar/<int:token_id>/revoke")
@roles_required(SELF_SUBSCRIBERS)
def revoke(token_id: int) -> ResponseReturnValue:
    token = _own_token(token_id)
    saved = save_form(None, lambda: revoke_token(token))
    if not saved:
        flash(saved.message, "error")
    else:
        flash("Your calendar address was revoked: it no longer works.", "success")
    return redirect(url_for("partner_feeds.my_calendar"))
