"""Command-line entry points: ``flask --app wsgi …``. Each command commits once, at its end."""

from __future__ import annotations

import sys

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import with_appcontext

from .extensions import db
from .users.models import ROLES


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(create_user)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Only seed a database that has no users yet.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load realistic demo data (idempotent: a second run changes nothing)."""
    from .demo import DEMO_PASSWORD, seed
    from .users.models import User

    if if_empty and db.session.scalar(sa.select(User.id).limit(1)) is not None:
        click.echo("The database already has users; demo data not loaded.")
        return
    summary = seed()
    db.session.commit()
    click.echo(f"Demo data ready: {summary.sessions} sessions, {summary.broadcasts} broadcasts.")
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for email, role in summary.created_users:
        click.echo(f"  {role:<15} {email}")


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--organisation", "organisation_name", help="Required for partner_viewer.")
@click.option("--name", "display_name", help="Display name (defaults to the part before @).")
@with_appcontext
def create_user(
    email: str, role: str, organisation_name: str | None, display_name: str | None
) -> None:
    """Create a user; the password is read from standard input."""
    from .users.operations import UserError
    from .users.operations import create_user as create

    password = click.prompt("Password", hide_input=True, confirmation_prompt=sys.stdin.isatty())
    try:
        user = create(
            email=email,
            role=role,
            password=password,
            display_name=display_name,
            organisation_name=organisation_name,
        )
    except UserError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")
