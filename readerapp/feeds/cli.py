"""``flask --app wsgi feeds create-token --organisation NAME | --group NAME | --leader EMAIL |
--station NAME``: prints the new feed's address (from BASE_URL)."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from ..groups.models import ReadingGroup
from ..organisations.models import Organisation
from ..users.models import User
from .operations import FeedError, create_token, feed_url, webcal_url

feeds_cli = AppGroup("feeds", help="Partner calendar feeds.")


@feeds_cli.command("create-token")
@click.option("--organisation", help="A partner organisation's name: every group it partners.")
@click.option("--group", help="A reading group's name.")
@click.option("--leader", help="A reader leader's email: their own sessions.")
@click.option("--station", help="A radio station's name: its broadcasts.")
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
    if scope in {"organisation", "station"}:
        target = db.session.scalar(sa.select(Organisation).where(Organisation.name == value))
    elif scope == "group":
        target = db.session.scalar(sa.select(ReadingGroup).where(ReadingGroup.name == value))
    else:
        email = User.normalise_email(value)
        target = db.session.scalar(sa.select(User).where(User.email == email))
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
