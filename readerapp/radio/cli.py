"""``flask --app wsgi schedules load FILE [--dry-run]``: load a station's broadcast grid."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from ..extensions import db
from .schedule_file import ScheduleFileError, apply


@click.group("schedules")
def schedules() -> None:
    """Broadcast grids kept in schedules/*.toml."""


@schedules.command("load")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Print what would change and write nothing.")
@with_appcontext
def load(path: Path, dry_run: bool) -> None:
    """Validate a schedule file and create, move or cancel its broadcasts (idempotent)."""
    try:
        report = apply(path)
    except ScheduleFileError as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(problem, err=True)
        raise SystemExit(1) from None
    for line in report.lines(dry_run):
        click.echo(line)
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written.")
    else:
        db.session.commit()
