"""Feed tokens: the secret addresses of calendar feeds. Managers and admins manage every token;
a reader leader only the feed of their own sessions (readerapp.access decides, as on the web)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import g
from flask.views import MethodView

from ..access import may_create_feed, may_manage_feed_token, may_manage_feeds, restrict_feed_tokens
from ..extensions import db
from ..feeds.models import FeedToken
from ..feeds.operations import create_token, feed_url, revoke_token, rotate_token, webcal_url
from ..feeds.scopes import rule_for
from .core import Blueprint, api_user, field_error, forbid, get_or_404, paginate_query
from .schemas.feed_tokens import (
    FeedTokenCreatedSchema,
    FeedTokenInputSchema,
    FeedTokenQuerySchema,
    FeedTokenSchema,
)

blp = Blueprint(
    "api_feed_tokens",
    __name__,
    url_prefix="/api/v1/feed-tokens",
    description=(
        "Calendar feed tokens (managers and admins; a reader leader their own sessions' feed). "
        "A token's secret is shown only once."
    ),
)


FORBIDDEN = (
    "Only managers and admins, and reader leaders for their own sessions' feed, may do this."
)


@blp.before_request
def _feed_managers_only() -> None:
    # Runs after authentication, which answers 401 itself when there is no user.
    user = g.get("api_user")
    if user is not None and not may_manage_feeds(user):
        forbid(FORBIDDEN)


def _managed_or_403(token_id: int) -> FeedToken:
    token = get_or_404(FeedToken, token_id)
    if not may_manage_feed_token(api_user(), token):
        forbid(FORBIDDEN)
    return token


@blp.route("")
class FeedTokens(MethodView):
    @blp.etag
    @blp.arguments(FeedTokenQuerySchema, location="query")
    @blp.response(200, FeedTokenSchema(many=True))
    @blp.paginate()
    def get(self, args: dict[str, Any], pagination_parameters: Any) -> list[FeedToken]:
        """List feed tokens (live ones unless `include_revoked`)."""
        query = sa.select(FeedToken).order_by(FeedToken.created_at.desc(), FeedToken.id)
        query = restrict_feed_tokens(query, api_user())
        if "scope" in args:
            query = query.where(FeedToken.scope == args["scope"])
        if not args["include_revoked"]:
            query = query.where(FeedToken.revoked_at.is_(None))
        return paginate_query(query, pagination_parameters)

    @blp.arguments(FeedTokenInputSchema)
    @blp.response(201, FeedTokenCreatedSchema)
    def post(self, values: dict[str, Any]) -> dict[str, Any]:
        """Create a feed token; the answer holds its secret and addresses, shown only once."""
        rule = rule_for(values["scope"])
        field = rule.target_column
        if not may_create_feed(api_user(), values["scope"], values[field]):
            forbid(FORBIDDEN)
        target = db.session.get(rule.target_model, values[field])
        if target is None:
            field_error(422, field, "Nothing with this id.")
        token, secret = create_token(
            values["scope"], target, created_by=api_user(), label=values.get("label")
        )
        db.session.commit()
        return _created(token, secret)


def _created(token: FeedToken, secret: str) -> dict[str, Any]:
    data = {name: getattr(token, name) for name in FeedTokenSchema().fields}
    url = feed_url(secret)
    return data | {"token": secret, "url": url, "webcal_url": webcal_url(url)}


@blp.route("/<int:token_id>")
class FeedTokenItem(MethodView):
    @blp.etag
    @blp.response(200, FeedTokenSchema)
    def get(self, token_id: int) -> FeedToken:
        """One feed token (never its secret)."""
        return _managed_or_403(token_id)

    @blp.response(204)
    def delete(self, token_id: int) -> None:
        """Revoke a feed token: its address answers 404 from now on. Revoking twice is fine."""
        revoke_token(_managed_or_403(token_id))
        db.session.commit()


@blp.route("/<int:token_id>/rotate")
class FeedTokenRotation(MethodView):
    @blp.response(201, FeedTokenCreatedSchema)
    def post(self, token_id: int) -> dict[str, Any]:
        """Revoke a token and create a new one for the same feed (its address leaked)."""
        token, secret = rotate_token(_managed_or_403(token_id), by=api_user())
        db.session.commit()
        return _created(token, secret)
