"""Feed pages: the feed itself (no sign-in: the token is the credential) and token management.

Admins and managers manage feeds for any target. A reader leader may make, rotate and revoke
feeds of their own sessions only (leader scope, themselves): the feed shows no more than their
own pages do. Partner viewers manage nothing here: they make their own address on their Calendar
page, or staff send them one (``partner_views.py``).
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..access import (
    FEED_MANAGERS,
    LEADERS,
    may_create_feed,
    may_manage_feed_token,
    restrict_feed_tokens,
    roles_required,
    sees_every_feed,
)
from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..users.models import User
from ..web.saving import save_form
from .forms import TARGET_FIELDS, FeedTokenForm
from .models import FeedToken
from .operations import (
    create_token,
    feed_url,
    revoke_token,
    rotate_token,
    target_name,
    webcal_url,
)
from .scopes import FeedScope, rule_for
from .serve import serve_feed

bp = Blueprint("feeds", __name__, template_folder="templates")


@bp.get("/feeds/<token>.ics")
def feed(token: str) -> ResponseReturnValue:
    return serve_feed(token)


def _is_staff() -> bool:
    return sees_every_feed(current_user)


def _form() -> FeedTokenForm:
    form = FeedTokenForm()
    blank = [SelectChoice(None, "Choose…")]
    if _is_staff():
        orgs = db.session.execute(
            sa.select(Organisation.id, Organisation.name, Organisation.kind).order_by(
                Organisation.name
            )
        ).all()
        form.organisation_id.choices = blank + [SelectChoice(o.id, o.name) for o in orgs]
        form.station_id.choices = blank + [
            SelectChoice(o.id, o.name) for o in orgs if o.kind == "radio_station"
        ]
        form.group_id.choices = blank + [
            SelectChoice(g.id, g.name)
            for g in db.session.execute(
                sa.select(ReadingGroup.id, ReadingGroup.name).order_by(ReadingGroup.name)
            )
        ]
        leaders = db.session.execute(
            sa.select(User.id, User.display_name, User.email)
            .where(User.role.in_(LEADERS), User.active.is_(True))
            .order_by(User.display_name)
        ).all()
        form.leader_id.choices = blank + [
            SelectChoice(u.id, f"{u.display_name} ({u.email})") for u in leaders
        ]
    else:
        form.scope.choices = [SelectChoice("leader", "My sessions")]
        form.organisation_id.choices = form.group_id.choices = form.station_id.choices = blank
        form.leader_id.choices = [SelectChoice(current_user.id, current_user.display_name)]
    return form


def _visible_tokens() -> list[FeedToken]:
    query = restrict_feed_tokens(
        sa.select(FeedToken).where(FeedToken.revoked_at.is_(None)), current_user
    )
    return list(db.session.scalars(query.order_by(FeedToken.scope, FeedToken.id)))


def _index(form: FeedTokenForm, status: int = 200) -> ResponseReturnValue:
    tokens = [(t, target_name(t)) for t in _visible_tokens()]
    return (
        render_template(
            "feeds/index.html",
            form=form,
            tokens=tokens,
            staff=_is_staff(),
            target_fields=TARGET_FIELDS,
        ),
        status,
    )


def _show_once(token: FeedToken, raw: str, heading: str) -> ResponseReturnValue:
    url = feed_url(raw)
    html = render_template(
        "feeds/created.html",
        heading=heading,
        token=token,
        target=target_name(token),
        https_url=url,
        webcal=webcal_url(url),
    )
    # The secret is on this page only: keep it out of every cache.
    return html, 200, {"Cache-Control": "no-store"}


@bp.get("/calendar-feeds/")
@roles_required(FEED_MANAGERS)
def index() -> ResponseReturnValue:
    form = _form()
    if not _is_staff():
        form.scope.data = "leader"
    return _index(form)


@bp.post("/calendar-feeds/")
@roles_required(FEED_MANAGERS)
def create() -> ResponseReturnValue:
    form = _form()
    if not _is_staff():
        # A leader's own feed only: anything else is not theirs to give out.
        scope = form.scope.data or FeedScope.LEADER
        if not may_create_feed(current_user, scope, form.leader_id.data or current_user.id):
            abort(403)
        form.scope.data = "leader"
        form.leader_id.data = current_user.id
    if not form.validate_on_submit():
        return _index(form, 400)
    scope = form.scope.data
    target_id = form[TARGET_FIELDS[scope]].data
    target = db.session.get(rule_for(scope).target_model, target_id)
    if target is None:
        abort(400)
    saved = save_form(
        form,
        lambda: create_token(scope, target, created_by=current_user, label=form.label.data),
        field=TARGET_FIELDS[scope],
    )
    if not saved:
        return _index(form, saved.status)
    token, raw = saved.value
    return _show_once(token, raw, "Feed created")


def _load(token_id: int) -> FeedToken:
    token = db.session.get(FeedToken, token_id)
    if token is None or token.revoked_at is not None:
        abort(404)
    if not may_manage_feed_token(current_user, token):
        abort(403)
    return token


@bp.post("/calendar-feeds/<int:token_id>/rotate")
@roles_required(FEED_MANAGERS)
def rotate(token_id: int) -> ResponseReturnValue:
    token = _load(token_id)
    saved = save_form(None, lambda: rotate_token(token, by=current_user))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("feeds.index"))
    new, raw = saved.value
    return _show_once(new, raw, "New feed address")


@bp.post("/calendar-feeds/<int:token_id>/revoke")
@roles_required(FEED_MANAGERS)
def revoke(token_id: int) -> ResponseReturnValue:
    token = _load(token_id)
    saved = save_form(None, lambda: revoke_token(token))
    if not saved:
        flash(saved.message, "error")
        return redirect(url_for("feeds.index"))
    flash("The feed address was revoked: it no longer works.", "success")
    return redirect(url_for("feeds.index"))
