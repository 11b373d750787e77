"""``flask --app wsgi privacy …``"""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import with_appcontext

from ..extensions import db


@click.group("privacy")
def privacy() -> None:
    """Participants' personal data: retention."""


@privacy.command("apply-retention")
@click.option(
    "--now",
    "now_text",
    help="Run as if it were this instant (ISO 8601 with an offset, e.g. 2027-01-01T00:00Z).",
)
@with_appcontext
def apply_retention_command(now_text: str | None) -> None:
    """Clear names and notes of participants not seen for RETENTION_MONTHS months."""
    from .operations import apply_retention

    now = None
    if now_text:
        try:
            now = datetime.fromisoformat(now_text)
        except ValueError as exc:
            raise click.BadParameter(f"not an ISO 8601 date and time: {now_text}") from exc
        if now.tzinfo is None:
            raise click.BadParameter("give the time with its offset, e.g. 2027-01-01T00:00Z")
    result = apply_retention(now)
    db.session.commit()
    click.echo(
        f"Retention: cleared names and notes of {result.cleared} participant(s) "
        f"last seen before {result.cutoff:%Y-%m-%d %H:%M} UTC."
    )
    if result.outcomes_cutoff is not None:
        click.echo(
            f"Removed the outcome answers and consent entries of {result.outcomes_people} "
            f"participant(s) last seen before {result.outcomes_cutoff:%Y-%m-%d %H:%M} UTC."
        )
