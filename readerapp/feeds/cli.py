"""``flask --app wsgi feeds create-token --organisation NAME | --group NAME | --leader EMAIL |
--station NAME``: prints the new feed's address (from BASE_URL)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from .operations import FeedError, create_token, feed_url, webcal_url
from .scopes import FeedScope, rule_for

feeds_cli = AppGroup("feeds", help="Partner calendar feeds.")


@feeds_cli.command("create-token")
@click.option("--organisation", help=rule_for(FeedScope.ORGANISATION).option_help)
@click.option("--group", help=rule_for(FeedScope.GROUP).option_help)
@click.option("--leader", help=rule_for(FeedScope.LEADER).option_help)
@click.option("--station", help=rule_for(FeedScope.STATION).option_help)
@click.option("--label", help="A note saying who the address is for.")
def create_token_command(
    organisation: str | None,
    group: str | None,
    leader: str | None,
    station: str | None,
    label: str | None,
) -> None:
    """Create a feed address for one target and print it (it is shown only once)."""
    chosen = {
        k: v
        for k, v in {
            "organisation": organisation,
            "group": group,
            "leader": leader,
            "station": station,
        }.items()
        if v
    }
    if len(chosen) != 1:
        raise click.UsageError("give exactly one of --organisation, --group, --leader, --station")
    scope, value = chosen.popitem()
    target = rule_for(scope).find_by_name(db.session, value)
    if target is None:
        raise click.ClickException(f"no {scope} called {value!r}")
    try:
        _, raw = create_token(scope, target, label=label)
    except FeedError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    url = feed_url(raw, current_app.config["BASE_URL"])
    click.echo(url)
    click.echo(f"Subscribe link: {webcal_url(url)}", err=True)
