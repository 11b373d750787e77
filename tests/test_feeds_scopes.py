"""Feed scopes are declared once (readerapp/feeds/scopes.py): every layer lists the same scopes,
and a scope outside the registry is an error, never a fallback to another kind of target."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask

from readerapp.api.schemas.feed_tokens import FeedTokenInputSchema, FeedTokenQuerySchema
from readerapp.extensions import db
from readerapp.feeds.cli import create_token_command
from readerapp.feeds.forms import FeedTokenForm
from readerapp.feeds.models import FeedToken
from readerapp.feeds.operations import FeedError, create_token
from readerapp.feeds.scopes import FEED_SCOPES, SCOPES, FeedScope, UnknownScope, rule_for

from .factories import Factory


def test_every_layer_offers_exactly_the_registered_scopes(app: Flask) -> None:
    assert set(SCOPES) == set(FeedScope) and set(FEED_SCOPES) == {s.value for s in FeedScope}
    with app.test_request_context():
        form = FeedTokenForm(meta={"csrf": False})
        assert [choice.value for choice in form.scope.choices] == list(FEED_SCOPES)
    for schema in (FeedTokenInputSchema(), FeedTokenQuerySchema()):
        assert list(schema.fields["scope"].validate.choices) == list(FEED_SCOPES)
    options = {p.name for p in create_token_command.params if p.name != "label"}
    assert options == set(FEED_SCOPES)


def test_an_unknown_scope_is_an_error_everywhere(factory: Factory) -> None:
    org = factory.organisation()
    with pytest.raises(UnknownScope, match="one of organisation, group, leader, station"):
        rule_for("venue")
    with pytest.raises(FeedError, match="unknown feed scope 'venue'"):
        create_token("venue", org)
    # A group is not an organisation: no silent reading of another table.
    with pytest.raises(FeedError, match="needs a organisation"):
        create_token("organisation", factory.group())
    db.session.rollback()
    # The database refuses a scope outside the registry as well.
    with pytest.raises(sa.exc.IntegrityError):
        db.session.add(FeedToken(scope="venue", organisation_id=org.id, token_hash="x" * 64))
        db.session.flush()
    db.session.rollback()


def test_each_scope_stores_its_target_in_its_own_column(factory: Factory) -> None:
    station = factory.organisation(name="Wave Radio", kind="radio_station")
    targets = {
        FeedScope.ORGANISATION: factory.organisation(name="Northmoor"),
        FeedScope.GROUP: factory.group(),
        FeedScope.LEADER: factory.user(role="reader_leader"),
        FeedScope.STATION: station,
    }
    for scope, target in targets.items():
        token, _ = create_token(scope, target)
        column = rule_for(scope).target_column
        assert getattr(token, column) == target.id
        assert [c for c in ("organisation_id", "group_id", "user_id") if getattr(token, c)] == [
            column
        ]
