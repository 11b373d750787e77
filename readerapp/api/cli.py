"""``flask --app wsgi api-token create EMAIL [--name NAME]``: print a new personal API token."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from ..extensions import db
from ..users.models import User
from .tokens import TokenError, create_token

api_token = AppGroup("api-token", help="Personal API tokens.")


@api_token.command("create")
@click.argument("email")
@click.option("--name", default=None, help="What the token is for (shown in the token list).")
def create(email: str, name: str | None) -> None:
    """Create a token for the user with EMAIL and print it (it is shown only this once)."""
    user = db.session.scalar(sa.select(User).where(User.email == User.normalise_email(email)))
    if user is None:
        raise click.ClickException(f"no user with the email {email!r}")
    try:
        new = create_token(user, name)
    except TokenError as exc:
        db.session.rollback()
        raise click.ClickException(exc.message) from exc
    db.session.commit()
    click.echo(new.secret)
